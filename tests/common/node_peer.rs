//! A Node test peer from `interop/node`, spoken to in JSON lines: one request per line on its stdin,
//! one response per line on its stdout. Included with
//! `#[path = "common/node_peer.rs"] mod node_peer;` by the interop tests that drive one.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// The directory of the Node peers.
pub(crate) const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/node");

/// One running peer process; killed when dropped. Its stderr goes to the test's output, so a crash
/// of the peer shows there.
pub(crate) struct NodePeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl NodePeer {
    /// Starts `interop/node/<script>`. `package` is an npm package the script imports: it is checked
    /// first, so that a missing install says how to fix it.
    pub(crate) fn start(script: &str, package: &str) -> Self {
        let dir = Path::new(NODE_DIR);
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "the Node test peer is not installed: run `npm ci --ignore-scripts` in {NODE_DIR}"
        );
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot run `node` (needed for the interop tests)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one request and returns the response, whatever it says.
    pub(crate) fn call(&mut self, request: &Value) -> Value {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the Node peer exited on {request}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad response {line:?}: {e}"))
    }

    /// Sends one request that must succeed (`"ok": true` in the response).
    pub(crate) fn ok(&mut self, request: &Value) -> Value {
        let response = self.call(request);
        assert_eq!(response["ok"], true, "peer failed {request}: {response}");
        response
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
