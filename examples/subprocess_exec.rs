//! `asyncio.create_subprocess_exec`: run `echo hello`, then `cat` with its stdin piped, and
//! print what they wrote and their return codes.
//!
//! Run: `cargo run --example subprocess_exec` (as tests/python/subprocess_exec.py does; not
//! named `subprocess`, which would shadow Python's own module in the twin's directory).

use tulip::Stdio::{Inherit, Piped};
use tulip::{create_subprocess_exec, run};

fn main() -> anyhow::Result<()> {
    run(|co| {
        // echo = await asyncio.create_subprocess_exec("echo", "hello", stdout=PIPE)
        let echo = create_subprocess_exec(co, "echo", ["hello"], Inherit, Piped, Inherit)?;
        let (out, _) = echo.communicate(co, None)?;
        let out = String::from_utf8(out.unwrap_or_default())?;
        println!("echo said {}", out.trim());
        println!("echo returncode {}", echo.returncode().unwrap());

        let no_args: [&str; 0] = [];
        let cat = create_subprocess_exec(co, "cat", no_args, Piped, Piped, Inherit)?;
        let (out, _) = cat.communicate(co, Some(b"through the pipe"))?;
        println!("cat said {}", String::from_utf8(out.unwrap_or_default())?);
        println!("cat returncode {}", cat.returncode().unwrap());
        Ok(())
    })
}
