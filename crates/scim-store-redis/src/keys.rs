//! Key names. The layout (one hash tag per tenant, the registry apart)
//! is described in the crate docs; every key name is built here.

use scim_store::Kind;

/// Builds key names for one key prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    /// The base of every key of `tenant`. `None` for an id with braces,
    /// which would end the hash tag early (and which no tenant has: ids are
    /// UUIDs): callers treat it as an unknown tenant.
    pub(crate) fn tenant(&self, tenant: &str) -> Option<Tenant> {
        if tenant.is_empty() || tenant.contains(['{', '}']) {
            return None;
        }
        let base = format!("{}:{{{tenant}}}:", self.prefix);
        let marker = format!("{base}tenant");
        Some(Tenant { base, marker })
    }

    /// The base of the global registry's keys.
    pub(crate) fn registry(&self) -> Registry {
        Registry {
            base: format!("{}:registry:{{registry}}:", self.prefix),
        }
    }
}

/// The keys of one tenant.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// `<prefix>:{<tenant>}:`, passed to every tenant script.
    pub base: String,
    /// `<base>tenant`: `KEYS[1]` of every tenant script (it routes the call
    /// on a cluster) and the tenant's existence marker.
    pub marker: String,
}

impl Tenant {
    pub(crate) fn audit(&self) -> String {
        format!("{}audit", self.base)
    }
}

/// The registry's keys.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub base: String,
}

impl Registry {
    /// Tenant name to id.
    pub(crate) fn names(&self) -> String {
        format!("{}tenant-names", self.base)
    }

    /// Tenant id to the tenant as JSON.
    pub(crate) fn tenants(&self) -> String {
        format!("{}tenants", self.base)
    }

    /// Token ids scored by insertion number.
    pub(crate) fn token_order(&self) -> String {
        format!("{}tokens", self.base)
    }

    pub(crate) fn token(&self, id: &str) -> String {
        format!("{}token:{id}", self.base)
    }
}

/// The key segment of a kind.
pub(crate) fn kind_segment(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Group => "group",
    }
}

/// The unique-index key suffix of a user name: folded with Rust's Unicode
/// `to_lowercase`, the folding the filter evaluator uses, so names that
/// filters call equal are exactly the names that collide.
pub(crate) fn user_name(name: &str) -> String {
    format!("username:{}", name.to_lowercase())
}

/// The index set suffix of one attribute value. Values are folded whether
/// or not the attribute is caseExact: the set then holds a superset of the
/// exact matches, and the evaluator run on every candidate decides.
pub(crate) fn index(kind: Kind, attr: &str, value: &str) -> String {
    format!("ix:{}:{attr}:{}", kind_segment(kind), value.to_lowercase())
}

/// The set of groups `id` is a direct member of.
pub(crate) fn member_of(id: &str) -> String {
    format!("memberof:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_key_carries_the_tenant_as_hash_tag() {
        let keys = Keys::new("scim");
        let t = keys.tenant("0b6c").unwrap();
        assert_eq!(t.base, "scim:{0b6c}:");
        assert_eq!(t.marker, "scim:{0b6c}:tenant");
        assert!(keys.tenant("a}b").is_none());
        assert!(keys.tenant("").is_none());
        assert_eq!(keys.registry().tenants(), "scim:registry:{registry}:tenants");
        assert_eq!(user_name("ÇeLiK"), "username:çelik");
        assert_eq!(index(Kind::Group, "displayName", "Sales"), "ix:group:displayName:sales");
    }
}
