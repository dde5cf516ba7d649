//! The connection: one reconnecting multiplexed connection to a single
//! server, or a Redis Cluster connection, behind one type, with every round
//! trip bounded in time so a Redis that went away makes calls fail fast.

use crate::config::RedisConfig;
use crate::error::{Error, Result};
use crate::scripts::Lua;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, FromRedisValue, Pipeline, RedisFuture, ServerErrorKind, Value};
use std::future::Future;
use std::time::Duration;

/// Cheap to clone: both variants are handles onto shared connections, and
/// every call works on its own clone.
#[derive(Clone)]
pub(crate) enum Conn {
    /// Reconnects by itself after the server went away: the failing call
    /// reports the error, a later one finds a new connection.
    Single(ConnectionManager),
    /// Follows slot moves and failovers, and reconnects to nodes.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// A connection with the time limits of its configuration.
#[derive(Clone)]
pub(crate) struct Redis {
    conn: Conn,
    /// The most one round trip may take, reconnecting included: a connect
    /// attempt plus a reply, with slack for the cluster client's retries.
    limit: Duration,
}

impl Redis {
    /// Connects (eagerly: an unreachable Redis is an error now, not at the
    /// first request) and answers a PING.
    pub(crate) async fn connect(config: &RedisConfig) -> Result<Redis> {
        if let Some(problem) = config.problem() {
            return Err(Error::Config(problem));
        }
        if config.urls().iter().any(|u| u.starts_with("rediss://")) {
            // rustls needs a process-wide crypto provider; ring is the one
            // the server uses. Installing fails only when one is already
            // installed, which is just as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let limit = config.connect_timeout + config.response_timeout * 2;
        let conn = bounded(limit, async {
            if config.cluster {
                connect_cluster(config).await
            } else {
                connect_single(config).await
            }
        })
        .await?;
        let redis = Redis { conn, limit };
        let _: String = redis.cmd(&redis::cmd("PING")).await?;
        Ok(redis)
    }

    /// Runs one script by SHA (`EVALSHA`; on `NOSCRIPT`, after a Redis
    /// restart or `SCRIPT FLUSH`, `Script` loads it and retries once). If
    /// the cache is flushed again between that load and the retry, the
    /// source goes whole with `EVAL`, which cannot miss.
    pub(crate) async fn script<T: FromRedisValue>(&self, lua: &Lua, keys: &[&str], args: &[&str]) -> Result<T> {
        let mut invocation = lua.script.prepare_invoke();
        for k in keys {
            invocation.key(*k);
        }
        for a in args {
            invocation.arg(*a);
        }
        let mut conn = self.conn.clone();
        bounded(self.limit, async {
            match invocation.invoke_async(&mut conn).await {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    let mut eval = redis::cmd("EVAL");
                    eval.arg(&lua.code).arg(keys.len()).arg(keys).arg(args);
                    Ok(eval.query_async(&mut conn).await?)
                }
                other => Ok(other?),
            }
        })
        .await
    }

    /// Runs one plain command.
    pub(crate) async fn cmd<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        let mut conn = self.conn.clone();
        bounded(self.limit, async { Ok(cmd.query_async(&mut conn).await?) }).await
    }

    /// Loads a script now (`SCRIPT LOAD`; on a cluster, on every master), so
    /// the first call is a plain `EVALSHA`.
    pub(crate) async fn load(&self, lua: &Lua) -> Result<()> {
        let mut conn = self.conn.clone();
        bounded(self.limit, async {
            Ok(lua.script.load_async(&mut conn).await.map(drop)?)
        })
        .await
    }
}

async fn bounded<T>(limit: Duration, work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or(Err(Error::Timeout(limit)))
}

async fn connect_single(config: &RedisConfig) -> Result<Conn> {
    let client = redis::Client::open(config.url.as_str())?;
    // No retries inside one reconnect: a call waiting for a dead server
    // fails after one connect attempt (a refused port fails at once), and
    // the next call tries again, so recovery needs no restart.
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.response_timeout))
        .set_number_of_retries(0);
    let manager = ConnectionManager::new_with_config(client, manager_config).await?;
    Ok(Conn::Single(manager))
}

async fn connect_cluster(config: &RedisConfig) -> Result<Conn> {
    let client = ClusterClient::builder(config.urls())
        .connection_timeout(config.connect_timeout)
        .response_timeout(config.response_timeout)
        // Few, short retries: enough to follow a MOVED after a resharding
        // or a failover, not so many that a dead node makes calls hang.
        .retries(3)
        .min_retry_wait(10)
        .max_retry_wait(200)
        .build()?;
    Ok(Conn::Cluster(client.get_async_connection().await?))
}
