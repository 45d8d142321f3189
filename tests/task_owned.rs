//! Owned results and plain errors (issue #13, part 2). Here: `OsError` converts to and
//! from `io::Error`.
mod common;

use std::fs::File;
use std::io;

use anyhow::Result;
use tulip::{ErrorExt, OsError};

#[test]
fn os_error_converts_to_and_from_io_error() {
    // A syscall's error: errno, kind and message all kept, both ways.
    let io_err = io::Error::from_raw_os_error(libc::ECONNREFUSED);
    let os = OsError::from(io_err);
    assert_eq!(os.errno(), Some(libc::ECONNREFUSED));
    assert_eq!(os.py_name(), "ConnectionRefusedError");
    assert_eq!(os.kind(), io::ErrorKind::ConnectionRefused);
    let back = io::Error::from(os.clone());
    assert_eq!(back.raw_os_error(), Some(libc::ECONNREFUSED));
    assert_eq!(back.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(OsError::from(back), os);

    // asyncio's own message with an errno: kept, and the errno comes back.
    let os = OsError::with_errno(libc::ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)");
    let back = io::Error::from(os.clone());
    assert_eq!(back.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(back.to_string(), os.to_string());
    assert_eq!(OsError::from(back), os);

    // No errno: the class and the kind are kept.
    let os = OsError::named("ConnectionResetError", "Connection lost");
    let back = io::Error::from(os.clone());
    assert_eq!(back.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(OsError::from(back), os);

    // A std error without an errno: its kind survives the trip.
    let os = OsError::from(io::Error::new(io::ErrorKind::TimedOut, "too slow"));
    assert_eq!(os.errno(), None);
    assert_eq!(os.kind(), io::ErrorKind::TimedOut);
    assert_eq!(os.py_name(), "TimeoutError");
    assert_eq!(io::Error::from(os).kind(), io::ErrorKind::TimedOut);
    let os = OsError::from(io::Error::new(io::ErrorKind::InvalidData, "garbled"));
    assert_eq!(os.kind(), io::ErrorKind::InvalidData);
    assert_eq!(os.message(), "garbled");
    assert_eq!(io::Error::from(os).kind(), io::ErrorKind::InvalidData);

    // `?` from io in a task body: an OsError reaches the caller of `run`.
    let err = tulip::run(|_| -> Result<()> {
        let e = File::open("/nonexistent/tulip").map_err(OsError::from)?;
        drop(e);
        Ok(())
    })
    .unwrap_err();
    let os = err.find::<OsError>().expect("the OsError raised");
    assert_eq!(os.errno(), Some(libc::ENOENT));
    assert_eq!(os.kind(), io::ErrorKind::NotFound);
}
