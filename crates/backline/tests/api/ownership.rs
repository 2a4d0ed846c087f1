//! Every table has one owning crate, declared in docs/architecture.md; no crate's SQL names a table
//! that another crate owns (it asks the owner through a function instead).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ownership map of docs/architecture.md: `| crate | `table`, `table`, ... |` rows of the section
/// "Who owns which table".
fn owners() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let section = doc.split("## Who owns which table").nth(1).expect("docs/architecture.md has the ownership map");
    let section = section.split("\n## ").next().unwrap();
    let mut owners = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| ") && l.contains('`')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let owner = cells[1].trim_matches('`').to_owned();
        for table in cells[2].split(',').map(|t| t.trim().trim_matches('`')) {
            if let Some(other) = owners.insert(table.to_owned(), owner.clone()) {
                panic!("{table} is owned twice: by {other} and {owner}");
            }
        }
    }
    owners
}

/// The tables the migrations leave, in order: created, renamed and dropped.
fn migrated_tables() -> BTreeSet<String> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(root().join("migrations")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut tables = BTreeSet::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "sql")) {
        let sql = std::fs::read_to_string(file).unwrap();
        let words: Vec<&str> = sql.split_whitespace().collect();
        for w in words.windows(6) {
            if w[0] == "CREATE" && w[1] == "TABLE" {
                tables.insert(w[2].trim_end_matches('(').to_owned());
            }
            if w[0] == "DROP" && w[1] == "TABLE" {
                let name = if w[2] == "IF" && w[3] == "EXISTS" { w[4] } else { w[2] };
                tables.remove(name.trim_end_matches(';'));
            }
            if w[0] == "ALTER" && w[1] == "TABLE" && w[3] == "RENAME" && w[4] == "TO" {
                tables.remove(w[2]);
                tables.insert(w[5].trim_end_matches(';').to_owned());
            }
        }
    }
    tables
}

/// The string literals of a Rust source (plain and raw), where its SQL is.
fn literals(source: &str) -> Vec<(usize, String)> {
    let bytes = source.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') || (bytes.get(i + 1) == Some(&b'\\')) => {
                // a char literal such as '"' or '\n'
                i += if bytes.get(i + 1) == Some(&b'\\') { 4 } else { 3 };
                continue;
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                out.push((start, source[start..i.min(source.len())].to_owned()));
            }
            b'r' if bytes.get(i + 1) == Some(&b'#') && bytes.get(i + 2) == Some(&b'"') => {
                let start = i + 3;
                let end = source[start..].find("\"#").map_or(source.len(), |e| start + e);
                out.push((start, source[start..end].to_owned()));
                i = end + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The tables an SQL text names after FROM, JOIN, INTO, UPDATE, TABLE or REFERENCES.
fn named_tables(sql: &str) -> Vec<String> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words
        .windows(2)
        .filter(|w| matches!(w[0].as_str(), "from" | "join" | "into" | "update" | "table" | "references"))
        .map(|w| w[1].clone())
        .collect()
}

#[test]
fn every_table_has_one_owner() {
    let owners = owners();
    let tables = migrated_tables();
    let owned: BTreeSet<String> = owners.keys().cloned().collect();
    assert_eq!(
        tables.difference(&owned).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "tables without an owner in docs/architecture.md"
    );
    assert_eq!(
        owned.difference(&tables).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "owners of tables that do not exist"
    );
    let crates: BTreeSet<&str> = owners.values().map(String::as_str).collect();
    for owner in crates {
        assert!(root().join("crates").join(owner).is_dir(), "{owner} is not a crate");
    }
}

#[test]
fn no_crate_names_a_table_another_crate_owns() {
    let owners = owners();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let krate = dir.file_name().unwrap().to_string_lossy().into_owned();
        // The binary wires everything and the test kit builds fixtures; neither holds domain SQL.
        if krate == "backline" || krate == "testkit" {
            continue;
        }
        let mut stack = vec![dir.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for (at, text) in literals(&source) {
                    for table in named_tables(&text) {
                        if let Some(owner) = owners.get(&table).filter(|o| **o != krate) {
                            let line = source[..at].lines().count();
                            found.push(format!("{}:{line}: {krate} names {table}, which {owner} owns", path.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "cross-domain SQL:\n{}", found.join("\n"));
}

#[test]
fn the_scanner_sees_what_it_must() {
    assert_eq!(named_tables("SELECT id FROM users u JOIN org_members m ON true"), ["users", "org_members"]);
    assert_eq!(named_tables("INSERT INTO tickets (id) VALUES ($1)"), ["tickets"]);
    let found = literals("let a = \"SELECT 1 FROM x\"; // \"FROM y\"\nlet c = '\"'; let b = r#\"UPDATE z\"#;");
    let texts: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["SELECT 1 FROM x", "UPDATE z"]);
}
