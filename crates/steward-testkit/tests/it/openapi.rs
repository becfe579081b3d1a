//! The served OpenAPI document: valid OpenAPI 3.1 by an independent validator
//! (openapi-spec-validator from PyPI), usable by client generators, and listing
//! exactly the JSON API operations that docs/api.md documents.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

use serde_json::Value;
use steward_testkit::TestServer;
use tokio::io::AsyncWriteExt;

use crate::common::python;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn served_document() -> Value {
    let s = TestServer::start().await.unwrap();
    let r = s.client().unwrap().get("/api/openapi.json").await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3.1"));
    s.stop().await;
    r.json
}

/// Every operation of the document: (method, path) → the operation object.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()), op);
            }
        }
    }
    out
}

/// Every `` `METHOD /api/v1/…` `` code span outside code blocks, as (method, path).
fn documented_operations(markdown: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        for span in line.split('`').skip(1).step_by(2) {
            let Some((method, target)) = span.split_once(' ') else {
                continue;
            };
            let method = method.to_lowercase();
            let path = target.split('?').next().unwrap_or_default();
            if METHODS.contains(&method.as_str()) && path.starts_with("/api/v1/") {
                out.insert((method, path.to_owned()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_served_document_passes_openapi_spec_validator() {
    let doc = served_document().await;
    let py = python();
    let mut child = tokio::process::Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/openapi/validate.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {py} ({e}): run scripts/test, which installs openapi-spec-validator")
        });
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&serde_json::to_vec(&doc).unwrap())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().last() == Some("0 errors"),
        "openapi-spec-validator:\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn docs_api_md_and_the_document_list_the_same_operations() {
    let doc = served_document().await;
    let served: BTreeSet<(String, String)> = operations(&doc)
        .into_keys()
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .collect();
    let markdown =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    let documented = documented_operations(&markdown);
    assert!(documented.len() > 30, "docs/api.md read: {documented:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && missing.is_empty(),
        "in the OpenAPI document but not in docs/api.md: {undocumented:?}\n\
         in docs/api.md but not in the OpenAPI document: {missing:?}"
    );
}

/// What the validator cannot judge but client generators and their users depend on.
#[tokio::test]
async fn operations_have_stable_ids_described_answers_and_the_shared_error_body() {
    let doc = served_document().await;
    let ops = operations(&doc);
    let mut ids = BTreeSet::new();
    for ((method, path), op) in &ops {
        let at = format!("{} {path}", method.to_uppercase());
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{at}: operationId {id:?} is not snake_case"
        );
        assert!(ids.insert(id), "{at}: operationId {id} is not unique");
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            let in_path = path.contains(&format!("{{{name}}}"));
            let expected = if in_path { "path" } else { "query" };
            assert_eq!(p["in"], expected, "{at}: parameter {name}");
        }
        if let Some(body) = op.get("requestBody") {
            let d = body["description"].as_str().unwrap_or_default();
            assert!(d.len() > 10, "{at}: the request body is not described");
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let d = response["description"].as_str().unwrap_or_default();
            assert!(
                d.len() > 10 && !["ok", "success", "error"].contains(&d.to_lowercase().as_str()),
                "{at} {status}: description {d:?} says nothing"
            );
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{at} {status}: an error answer has the shared error body"
                );
            }
        }
    }
    // Client generators name functions after these: they are part of the contract.
    for (method, path, id) in [
        ("get", "/api/v1/sessions", "list_sessions"),
        ("get", "/api/v1/me/notifications", "list_notifications"),
        ("get", "/api/v1/apps", "list_apps"),
        ("post", "/api/v1/session", "sign_in"),
        ("delete", "/api/v1/session", "sign_out"),
        ("post", "/api/v1/accounts", "sign_up"),
        ("get", "/api/v1/me", "get_me"),
    ] {
        let op = ops[&(method.to_owned(), path.to_owned())];
        assert_eq!(op["operationId"], id, "{method} {path}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}
