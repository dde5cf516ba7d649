//! Removing every key under a key prefix: a whole deployment's data, or one
//! test's. Blocking, one server at a time (a cluster's nodes each hold their
//! own part), and key by key: on a cluster node, keys of different slots
//! cannot go in one command.

/// Deletes every key under `prefix` (`PREFIX:*`) on the server at `server`
/// (a `redis://` URL), with `SCAN` and pipelined `UNLINK`s.
pub fn delete_prefix(server: &str, prefix: &str) -> redis::RedisResult<()> {
    let mut conn = redis::Client::open(server)?.get_connection()?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)?;
        if !keys.is_empty() {
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("UNLINK").arg(k).ignore();
            }
            pipe.query::<()>(&mut conn)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
