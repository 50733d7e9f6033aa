//! The team journal over TLS, against the test PostgreSQL (CI turns TLS on with a
//! certificate authority of its own, `CONV_TEST_POSTGRES_CA`; the server's certificate names
//! 127.0.0.1 only). Each connection's encryption is read from the server's `pg_stat_ssl`.

mod common;

use conv_journal::Journal;

fn server() -> Option<(String, String)> {
    let ca = std::env::var("CONV_TEST_POSTGRES_CA").ok().filter(|c| !c.is_empty());
    let Some(ca) = ca else {
        assert!(std::env::var_os("CI").is_none(), "CI must set CONV_TEST_POSTGRES_CA");
        eprintln!("note: no CONV_TEST_POSTGRES_CA; skipping");
        return None;
    };
    Some((common::fresh_postgres_database()?, ca))
}

/// How many sessions on `db` the server says are encrypted.
fn encrypted_sessions(url: &str) -> i64 {
    let admin_url = format!("{}/postgres", url.rsplit_once('/').unwrap().0);
    let db = url.rsplit_once('/').unwrap().1;
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    let row = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE s.ssl AND a.datname = $1",
            &[&db],
        )
        .unwrap();
    row.get(0)
}

#[test]
fn verify_full_with_the_servers_ca_connects_encrypted_and_works() {
    let Some((url, ca)) = server() else { return };
    let mut journal = Journal::open_postgres(&format!("{url}?sslmode=verify-full&sslrootcert={ca}")).unwrap();
    assert_eq!(encrypted_sessions(&url), 1);
    let run = journal.begin_run("tls test").unwrap();
    assert!(run > 0);
}

#[test]
fn require_encrypts_without_checking_and_no_sslmode_stays_plain() {
    let Some((url, _)) = server() else { return };
    let encrypted = Journal::open_postgres(&format!("{url}?sslmode=require")).unwrap();
    assert_eq!(encrypted_sessions(&url), 1);
    drop(encrypted);
    let _plain = Journal::open_postgres(&url).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(encrypted_sessions(&url), 0);
}

#[test]
fn a_certificate_that_does_not_check_out_is_refused_with_why() {
    let Some((url, ca)) = server() else { return };
    // The public roots do not know the test CA.
    let unknown = Journal::open_postgres(&format!("{url}?sslmode=verify-full")).err().expect("refused");
    assert!(unknown.to_string().contains("UnknownIssuer") || unknown.to_string().contains("issuer"), "{unknown}");
    // Through `localhost` the name is not the certificate's; verify-ca does not ask for it.
    let local = url.replace("127.0.0.1", "localhost");
    let wrong_name =
        Journal::open_postgres(&format!("{local}?sslmode=verify-full&sslrootcert={ca}")).err().expect("refused");
    assert!(wrong_name.to_string().to_lowercase().contains("name"), "{wrong_name}");
    assert!(Journal::open_postgres(&format!("{local}?sslmode=verify-ca&sslrootcert={ca}")).is_ok());
    let bad_mode = Journal::open_postgres(&format!("{url}?sslmode=sometimes")).err().expect("refused");
    assert!(bad_mode.to_string().contains("sslmode=sometimes"), "{bad_mode}");
}
