//! Connection strings with their secrets masked, for logs, errors and
//! `config check`: one implementation for every backend, so a form that one
//! backend masks is masked everywhere.

const MASK: &str = "***";

/// A connection string with its secrets masked: the password of a URL's
/// user info (for `redis://` and `rediss://`, a lone user info too: Redis
/// URLs carry a bare password there often enough), any `password=` query
/// parameter, and the `password=` pair of PostgreSQL's key/value form
/// (`host=h password='a b' user=u`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_key_values(url);
    };
    // The authority ends at the first `/`, `?` or `#`; the user info is
    // what precedes its last `@` (a raw `@` in a password happens).
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((info, host)) => match info.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None if scheme.starts_with("redis") => format!("{MASK}@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, format!("#{f}")),
                None => (query, String::new()),
            };
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={MASK}"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}{fragment}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `host=h password='a b\'c' user=u`: values may be single-quoted with
/// backslash escapes, and spaces may surround `=`.
fn redact_key_values(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim_end();
        let key = key.rsplit(char::is_whitespace).next().unwrap_or(key);
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        let value = after.trim_start();
        out.push_str(&after[..after.len() - value.len()]);
        let len = value_len(value);
        out.push_str(if key.eq_ignore_ascii_case("password") {
            MASK
        } else {
            &value[..len]
        });
        rest = &value[len..];
    }
    out.push_str(rest);
    out
}

/// The byte length of the key/value-form value at the start of `s`.
fn value_len(s: &str) -> usize {
    let Some(inner) = s.strip_prefix('\'') else {
        return s.find(char::is_whitespace).unwrap_or(s.len());
    };
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '\'') => return i + 2,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_masked_in_every_form() {
        for (url, shown) in [
            (
                "postgres://scim:s3cret@db:5432/scim",
                "postgres://scim:***@db:5432/scim",
            ),
            (
                "postgresql://u:p%40ss@h/d?sslmode=disable",
                "postgresql://u:***@h/d?sslmode=disable",
            ),
            ("postgresql://u:pa@ss@h/d", "postgresql://u:***@h/d"),
            (
                "postgres://u@h/d?password=s3cret&application_name=x",
                "postgres://u@h/d?password=***&application_name=x",
            ),
            (
                "postgres://u:p@h?PASSWORD=x#frag",
                "postgres://u:***@h?PASSWORD=***#frag",
            ),
            (
                "host=db user=scim password=s3cret dbname=scim",
                "host=db user=scim password=*** dbname=scim",
            ),
            ("password = 'a b\\'s3cret' host=h", "password = *** host=h"),
            ("host=h PASSWORD=x", "host=h PASSWORD=***"),
            ("password='unterminated", "password=***"),
            ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
            ("rediss://default:s3cret@cache:6380", "rediss://default:***@cache:6380"),
            ("redis://s3cret@cache", "redis://***@cache"),
            (
                "redis://h/0?password=s3cret&protocol=resp3",
                "redis://h/0?password=***&protocol=resp3",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn strings_without_passwords_are_unchanged() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://scim@db/scim",
            "postgres://h/d",
            "postgres:///d?host=/run/postgresql",
            "postgresql://u@h1:1,h2:2/d?target_session_attrs=read-write",
            "host=h user=u",
            "redis://127.0.0.1:6379",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
