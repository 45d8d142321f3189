//! The subprocess builder, `Command`: the case prints what tests/cases/os/subprocess_command.py
//! prints with asyncio's keywords (cwd, env, stderr=STDOUT, DEVNULL).
mod common;

use tulip::Stdio::{Null, Piped, Stdout};
use tulip::{Command, OsError, ValueError, py_bytes_repr};

fn opt_b(b: &Option<Vec<u8>>) -> String {
    b.as_ref().map_or("None".into(), |b| py_bytes_repr(b))
}

#[test]
fn subprocess_command() {
    common::check_case("os/subprocess_command", || {
        tulip::run(|co| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let p = Command::new("sh")
                .args(["-c", "echo $GREETING; pwd; echo err >&2"])
                .current_dir("/")
                .env_clear()
                .env("GREETING", "hi")
                .env("PATH", path)
                .stdout(Piped)
                .stderr(Stdout)
                .spawn(co)?;
            let (out, err) = p.communicate(co, None)?;
            tprint!(
                "{} {} {}",
                opt_b(&out),
                opt_b(&err),
                p.returncode().unwrap()
            );
            let p = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 4"])
                .stdout(Null)
                .stderr(Piped)
                .spawn(co)?;
            let (out, err) = p.communicate(co, None)?;
            tprint!(
                "({}, {}) {}",
                opt_b(&out),
                opt_b(&err),
                p.returncode().unwrap()
            );
            let p = Command::new("/usr/bin/env")
                .env_clear()
                .env("A", "1")
                .stdout(Piped)
                .spawn(co)?;
            let (out, err) = p.communicate(co, None)?;
            tprint!("({}, {})", opt_b(&out), opt_b(&err));
            match Command::new("true").current_dir("/no/such/dir").spawn(co) {
                Err(e) => {
                    let io = e
                        .downcast_ref::<std::io::Error>()
                        .expect("the spawn's error");
                    let os = OsError::from_io(io);
                    tprint!("{} {}", os.py_name(), os.errno().unwrap());
                }
                Ok(_) => tprint!("no error"),
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn stdout_is_only_for_stderr_and_a_builder_spawns_again() {
    tulip::run(|co| {
        let e = Command::new("true").stdout(Stdout).spawn(co).unwrap_err();
        assert_eq!(e.to_string(), "STDOUT can only be used for stderr");
        assert!(e.downcast_ref::<ValueError>().is_some());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo twice >&2"])
            .stdout(Piped)
            .stderr(Stdout);
        for _ in 0..2 {
            let p = cmd.spawn(co)?;
            let (out, _) = p.communicate(co, None)?;
            assert_eq!(out.as_deref(), Some(&b"twice\n"[..]));
        }
        // stderr=STDOUT with stdout to /dev/null: both are silenced.
        let p = Command::new("sh")
            .args(["-c", "echo gone >&2"])
            .stdout(Null)
            .stderr(Stdout)
            .spawn(co)?;
        assert_eq!(p.communicate(co, None)?, (None, None));
        Ok(())
    })
    .unwrap();
}
