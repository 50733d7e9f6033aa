//! The team backend: PostgreSQL, named by a connection URL. A dropped connection is opened
//! again and the statement retried once; an unreachable server is a clear error.

use crate::JournalError;
use crate::backend::{Backend, Value};
use crate::schema;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};
use std::time::Duration;

pub struct Postgres {
    client: Client,
    url: String,
}

/// The URL without its password, for messages.
fn shown(url: &str) -> String {
    // `?password=...` in a URL's query.
    if let Some((base, query)) = url.split_once('?') {
        let masked: Vec<String> = query
            .split('&')
            .map(|kv| if kv.starts_with("password=") { "password=***".to_string() } else { kv.to_string() })
            .collect();
        return format!("{}?{}", shown(base), masked.join("&"));
    }
    // `host=... password=...` connection strings.
    if url.contains("password=") {
        return url
            .split_whitespace()
            .map(|kv| if kv.starts_with("password=") { "password=***" } else { kv })
            .collect::<Vec<_>>()
            .join(" ");
    }
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn connect(url: &str) -> Result<Client, JournalError> {
    let unreachable = |detail: String| JournalError::Unreachable { url: shown(url), detail };
    let (plain_url, mode) = crate::pg_tls::split(url).map_err(unreachable)?;
    let tls = crate::pg_tls::connector(&mode).map_err(unreachable)?;
    let mut last = String::new();
    // A server that is restarting gets a few chances.
    for attempt in 0..3 {
        let connected = match &tls {
            Some(tls) => Client::connect(&plain_url, tls.clone()),
            None => Client::connect(&plain_url, NoTls),
        };
        match connected {
            Ok(c) => return Ok(c),
            Err(e) => {
                last = with_causes(&e);
                std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
            }
        }
    }
    Err(unreachable(last))
}

/// An error and what caused it: `error performing TLS handshake: invalid peer certificate: ...`.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// `?1` placeholders as PostgreSQL's `$1`.
fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The schema's SQLite DDL in PostgreSQL's words.
fn ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY").replace("INTEGER", "BIGINT")
}

impl Postgres {
    pub fn open(url: &str) -> Result<Postgres, JournalError> {
        let mut client = connect(url)?;
        let err = |e: postgres::Error| JournalError::Other(e.to_string());
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS conv_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)")
            .map_err(err)?;
        let mut tx = client.transaction().map_err(err)?;
        tx.batch_execute("LOCK TABLE conv_meta IN EXCLUSIVE MODE").map_err(err)?;
        let version: i64 = tx
            .query_opt("SELECT value FROM conv_meta WHERE key = 'schema'", &[])
            .map_err(err)?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if version as u32 > schema::SCHEMA_VERSION {
            return Err(JournalError::NewerSchema {
                path: shown(url),
                found: version as u32,
                supported: schema::SCHEMA_VERSION,
            });
        }
        for (from, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(&ddl(sql)).map_err(err)?;
            tx.execute(
                "INSERT INTO conv_meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&(from as i64 + 1)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(Postgres { client, url: url.to_string() })
    }

    /// Runs `f`, opening the connection again once if the server dropped it.
    fn retry<T>(&mut self, mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>) -> Result<T, JournalError> {
        match f(&mut self.client) {
            Ok(v) => Ok(v),
            Err(e) if self.client.is_closed() || e.is_closed() => {
                self.client = connect(&self.url)?;
                f(&mut self.client).map_err(|e| JournalError::Other(e.to_string()))
            }
            Err(e) => Err(JournalError::Other(e.to_string())),
        }
    }
}

fn params(values: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Int(i) => Box::new(*i),
                Value::Text(s) => Box::new(s.clone()),
                Value::Null => Box::new(Option::<String>::None),
            }
        })
        .collect()
}

impl Backend for Postgres {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<(), JournalError> {
        let sql = translate(sql);
        let owned = params(values);
        self.retry(|c| {
            let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
            c.execute(sql.as_str(), &refs).map(|_| ())
        })
    }

    fn insert(&mut self, sql: &str, values: &[Value]) -> Result<i64, JournalError> {
        let sql = format!("{} RETURNING id", translate(sql));
        let owned = params(values);
        self.retry(|c| {
            let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
            c.query_one(sql.as_str(), &refs).map(|r| r.get::<_, i64>(0))
        })
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, JournalError> {
        let sql = translate(sql);
        let owned = params(values);
        let rows = self.retry(|c| {
            let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
            c.query(sql.as_str(), &refs)
        })?;
        Ok(rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| match *row.columns()[i].type_() {
                        Type::INT8 => row.get::<_, Option<i64>>(i).map(Value::Int).unwrap_or(Value::Null),
                        Type::INT4 => row.get::<_, Option<i32>>(i).map(|v| Value::Int(v as i64)).unwrap_or(Value::Null),
                        _ => row.get::<_, Option<String>>(i).map(Value::Text).unwrap_or(Value::Null),
                    })
                    .collect()
            })
            .collect())
    }

    fn begin_locking(&mut self) -> Result<(), JournalError> {
        self.retry(|c| c.batch_execute("BEGIN; LOCK TABLE locks IN EXCLUSIVE MODE"))
    }

    fn begin(&mut self) -> Result<(), JournalError> {
        self.retry(|c| c.batch_execute("BEGIN"))
    }

    fn commit(&mut self) -> Result<(), JournalError> {
        self.client.batch_execute("COMMIT").map_err(|e| JournalError::Other(e.to_string()))
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn describe(&self) -> String {
        shown(&self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn passwords_never_show() {
        assert_eq!(shown("postgresql://conv:secret@db:5432/conv"), "postgresql://conv:***@db:5432/conv");
        assert_eq!(
            shown("postgresql://db/conv?user=conv&password=secret"),
            "postgresql://db/conv?user=conv&password=***"
        );
        assert_eq!(shown("host=db user=conv password=secret"), "host=db user=conv password=***");
        assert_eq!(shown("postgresql://db/conv"), "postgresql://db/conv");
    }
}
