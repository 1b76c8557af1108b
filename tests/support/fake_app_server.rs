//! A fake `codex` for the quickstart tests: `--version`, and `[-c k=v]... app-server --listen
//! stdio://` speaking just enough of the protocol. `FAKE_APP_SERVER_MODE` picks a behaviour:
//! normal, no-deltas, approval, fail-turn, crash-mid-turn, malformed-line, stderr-flood, hang,
//! auth-required, overloaded-once. Built by cargo as an example, std only.

use std::io::{BufRead, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        let v = std::env::var("FAKE_CODEX_VERSION").unwrap_or_else(|_| "0.163.0".into());
        println!("codex-cli {v}");
        return;
    }
    if !args.iter().any(|a| a == "app-server") {
        eprintln!("fake codex: unsupported arguments {args:?}");
        std::process::exit(2);
    }
    let mode = std::env::var("FAKE_APP_SERVER_MODE").unwrap_or_else(|_| "normal".into());
    // Echo the overrides so tests can check they arrived before `app-server`.
    eprintln!("fake app-server started with {args:?}");
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut overloaded = mode == "overloaded-once";
    let mut lines = stdin.lock().lines();
    while let Some(Ok(line)) = lines.next() {
        let id = field(&line, "\"id\":").unwrap_or_default();
        let method = string_field(&line, "\"method\":\"").unwrap_or_default();
        let reply = |out: &mut std::io::StdoutLock, s: String| {
            let _ = writeln!(out, "{s}");
            let _ = out.flush();
        };
        match method.as_str() {
            "initialize" => {
                if mode == "hang" {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                }
                if mode == "malformed-line" {
                    reply(&mut out, "this is not json".into());
                    continue;
                }
                reply(&mut out, format!("{{\"id\":{id},\"result\":{{\"userAgent\":\"codex_bootstrap/0.163.0 (fake)\",\"codexHome\":\"/fake/home\",\"platformFamily\":\"unix\",\"platformOs\":\"linux\"}}}}"));
            }
            "account/read" => {
                let requires = mode == "auth-required";
                reply(&mut out, format!("{{\"id\":{id},\"result\":{{\"account\":null,\"requiresOpenaiAuth\":{requires}}}}}"));
            }
            "thread/start" => reply(
                &mut out,
                format!("{{\"id\":{id},\"result\":{{\"thread\":{{\"id\":\"thread-1\"}}}}}}"),
            ),
            "turn/start" => {
                if overloaded {
                    overloaded = false;
                    reply(&mut out, format!("{{\"id\":{id},\"error\":{{\"code\":-32001,\"message\":\"server overloaded\"}}}}"));
                    continue;
                }
                reply(&mut out, format!("{{\"id\":{id},\"result\":{{\"turn\":{{\"id\":\"turn-1\",\"status\":\"inProgress\",\"items\":[]}}}}}}"));
                turn(&mode, &mut out, &mut lines);
            }
            _ => {}
        }
    }
}

fn turn(mode: &str, out: &mut std::io::StdoutLock, lines: &mut std::io::Lines<std::io::StdinLock>) {
    let send = |out: &mut std::io::StdoutLock, s: &str| {
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    };
    let note =
        |method: &str, params: &str| format!("{{\"method\":\"{method}\",\"params\":{params}}}");
    let ids = "\"threadId\":\"thread-1\",\"turnId\":\"turn-1\"";
    match mode {
        "approval" => {
            send(out, &format!("{{\"id\":77,\"method\":\"item/commandExecution/requestApproval\",\"params\":{{{ids},\"itemId\":\"c1\",\"command\":\"rm -rf /\"}}}}"));
            // Wait for the client's answer before going on.
            let answer = lines.next().and_then(Result::ok).unwrap_or_default();
            if !answer.contains("\"decision\":\"decline\"") {
                eprintln!("fake app-server: expected a decline, got {answer}");
                std::process::exit(3);
            }
        }
        "crash-mid-turn" => {
            send(
                out,
                &note(
                    "item/agentMessage/delta",
                    &format!("{{{ids},\"itemId\":\"m\",\"delta\":\"partial \"}}"),
                ),
            );
            eprintln!("fake app-server: panicked at 'simulated crash'");
            std::process::exit(101);
        }
        "stderr-flood" => {
            let line = "x".repeat(1023);
            let mut err = std::io::stderr().lock();
            for _ in 0..4096 {
                let _ = writeln!(err, "{line}");
            }
            let _ = writeln!(err, "the last line of the flood");
        }
        "hang-turn" => std::thread::sleep(std::time::Duration::from_secs(3600)),
        _ => {}
    }
    if mode == "fail-turn" {
        send(out, &note("error", &format!("{{{ids},\"willRetry\":true,\"error\":{{\"message\":\"stream disconnected, retrying\"}}}}")));
        send(out, &note("turn/completed", "{\"threadId\":\"thread-1\",\"turn\":{\"id\":\"turn-1\",\"status\":\"failed\",\"items\":[],\"error\":{\"message\":\"model endpoint unreachable\"}}}"));
        eprintln!("fake app-server: turn failed");
        return;
    }
    if mode != "no-deltas" {
        for d in ["Hello ", "from ", "the fake."] {
            send(
                out,
                &note(
                    "item/agentMessage/delta",
                    &format!("{{{ids},\"itemId\":\"m\",\"delta\":\"{d}\"}}"),
                ),
            );
        }
    }
    send(out, &note("item/completed", &format!("{{{ids},\"completedAtMs\":1,\"item\":{{\"type\":\"agentMessage\",\"id\":\"m\",\"text\":\"Hello from the fake.\"}}}}")));
    send(out, &note("thread/tokenUsage/updated", &format!("{{{ids},\"tokenUsage\":{{\"total\":{{\"inputTokens\":11,\"cachedInputTokens\":1,\"outputTokens\":4,\"reasoningOutputTokens\":0,\"totalTokens\":15}},\"last\":{{\"inputTokens\":11,\"cachedInputTokens\":1,\"outputTokens\":4,\"reasoningOutputTokens\":0,\"totalTokens\":15}}}}}}")));
    send(out, &note("turn/completed", "{\"threadId\":\"thread-1\",\"turn\":{\"id\":\"turn-1\",\"status\":\"completed\",\"items\":[]}}"));
}

/// The raw value after `key` up to the next `,` or `}` (ids are integers).
fn field(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest.find([',', '}'])?;
    Some(rest[..end].trim().to_string())
}

fn string_field(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    Some(rest[..rest.find('"')?].to_string())
}
