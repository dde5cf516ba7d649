//! The Lua scripts, each in its own commented file under `src/lua/`. Every
//! mutation is one script, so its checks, writes, index maintenance and
//! audit event happen atomically or not at all, with no WATCH/MULTI retry
//! loop. Scripts run by SHA (`redis::Script`: EVALSHA, reloading on
//! NOSCRIPT, with a plain EVAL as the last resort); [`all`] are loaded at
//! connect time.

use redis::Script;
use std::sync::LazyLock;

/// A script with its source: `Script` runs it by SHA and reloads it on
/// NOSCRIPT; the source is for the last resort of sending it whole.
pub(crate) struct Lua {
    pub(crate) script: Script,
    pub(crate) code: String,
}

impl Lua {
    fn new(code: String) -> Lua {
        Lua {
            script: Script::new(&code),
            code,
        }
    }
}

/// Helpers prepended to every tenant-slot script.
const PRELUDE: &str = include_str!("lua/prelude.lua");

fn tenant_script(body: &str) -> Lua {
    Lua::new([PRELUDE, body].concat())
}

fn registry_script(code: &str) -> Lua {
    Lua::new(code.to_string())
}

pub(crate) static CREATE: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/create.lua")));
pub(crate) static UPDATE: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/update.lua")));
pub(crate) static DELETE: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/delete.lua")));
pub(crate) static FETCH: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/fetch.lua")));
pub(crate) static PAGE: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/page.lua")));
pub(crate) static MEMBERS: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/members.lua")));
pub(crate) static GROUPS_OF: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/groups_of.lua")));
pub(crate) static LOOKUP: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/lookup.lua")));
pub(crate) static SCAN: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/scan.lua")));
pub(crate) static PURGE: LazyLock<Lua> = LazyLock::new(|| tenant_script(include_str!("lua/purge.lua")));

// The registry's scripts touch only registry keys (one slot of their own).
pub(crate) static TENANT_CREATE: LazyLock<Lua> =
    LazyLock::new(|| registry_script(include_str!("lua/tenant_create.lua")));
pub(crate) static TENANT_DELETE: LazyLock<Lua> =
    LazyLock::new(|| registry_script(include_str!("lua/tenant_delete.lua")));
pub(crate) static TOKEN_CREATE: LazyLock<Lua> = LazyLock::new(|| registry_script(include_str!("lua/token_create.lua")));
pub(crate) static TOKEN_MARK: LazyLock<Lua> = LazyLock::new(|| registry_script(include_str!("lua/token_mark.lua")));
pub(crate) static TOKENS: LazyLock<Lua> = LazyLock::new(|| registry_script(include_str!("lua/tokens.lua")));

/// Every script, for loading at connect time.
pub(crate) fn all() -> [&'static Lua; 15] {
    [
        &CREATE,
        &UPDATE,
        &DELETE,
        &FETCH,
        &PAGE,
        &MEMBERS,
        &GROUPS_OF,
        &LOOKUP,
        &SCAN,
        &PURGE,
        &TENANT_CREATE,
        &TENANT_DELETE,
        &TOKEN_CREATE,
        &TOKEN_MARK,
        &TOKENS,
    ]
}
