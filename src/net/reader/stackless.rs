//! The stackless forms of the stream reads (feature `nightly`): `read_stackless`,
//! `readline_stackless`, ..., each driving the same `WaitOp` as its stackful method.

use std::panic::Location;

use super::{Read, ReadAll, ReadExactly, ReadLine, ReadUntil, StreamReader};
use crate::sync::stackless::{Waiting, stackless_wait};

stackless_wait!(
    /// What [`StreamReader::read_stackless`] returns: `await reader.read(n)` for
    /// [`yield_from!`](crate::yield_from).
    StreamRead [] [] (StreamReader, Read) -> Vec<u8>
);

stackless_wait!(
    /// What [`StreamReader::read_all_stackless`] returns: `await reader.read()`.
    StreamReadAll [] [] (StreamReader, ReadAll) -> Vec<u8>
);

stackless_wait!(
    /// What [`StreamReader::readexactly_stackless`] returns: `await
    /// reader.readexactly(n)`.
    StreamReadExactly [] [] (StreamReader, ReadExactly) -> Vec<u8>
);

stackless_wait!(
    /// What [`StreamReader::readuntil_stackless`] returns: `await reader.readuntil(sep)`.
    StreamReadUntil ['a] ['a] (StreamReader, ReadUntil<'a>) -> Vec<u8>
);

stackless_wait!(
    /// What [`StreamReader::readline_stackless`] returns: `await reader.readline()`.
    StreamReadLine [] [] (StreamReader, ReadLine) -> Vec<u8>
);

impl StreamReader {
    /// `await reader.read(n)` for a stackless body:
    /// `yield_from!(reader.read_stackless(n))?`. Exactly [`StreamReader::read`] (same
    /// code, same errors), holding no stack while it waits for data.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{StreamReader, get_running_loop, stackless, yield_from};
    ///
    /// let got = stackless::run(
    ///     #[coroutine]
    ///     static |_| {
    ///         let reader = StreamReader::new(&get_running_loop()?);
    ///         let feeder = reader.clone();
    ///         get_running_loop()?.call_soon(move || feeder.feed_data(b"hello"))?;
    ///         yield_from!(reader.read_stackless(100)) // waits for the data
    ///     },
    /// )?;
    /// assert_eq!(got, b"hello");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`StreamReader::read`].
    #[track_caller]
    pub fn read_stackless(&self, n: usize) -> StreamRead {
        StreamRead(Waiting::new(self.clone(), Read(n), Location::caller()))
    }

    /// `await reader.read()` (everything up to EOF) for a stackless body: exactly
    /// [`StreamReader::read_all`].
    ///
    /// # Errors
    ///
    /// As [`StreamReader::read`].
    #[track_caller]
    pub fn read_all_stackless(&self) -> StreamReadAll {
        StreamReadAll(Waiting::new(
            self.clone(),
            ReadAll::default(),
            Location::caller(),
        ))
    }

    /// `await reader.readexactly(n)` for a stackless body: exactly
    /// [`StreamReader::readexactly`].
    ///
    /// # Errors
    ///
    /// As [`StreamReader::readexactly`].
    #[track_caller]
    pub fn readexactly_stackless(&self, n: usize) -> StreamReadExactly {
        StreamReadExactly(Waiting::new(
            self.clone(),
            ReadExactly(n),
            Location::caller(),
        ))
    }

    /// `await reader.readuntil(sep)` for a stackless body: exactly
    /// [`StreamReader::readuntil`].
    ///
    /// # Errors
    ///
    /// As [`StreamReader::readuntil`].
    #[track_caller]
    pub fn readuntil_stackless<'a>(&self, sep: &'a [u8]) -> StreamReadUntil<'a> {
        StreamReadUntil(Waiting::new(
            self.clone(),
            ReadUntil::new(sep),
            Location::caller(),
        ))
    }

    /// `await reader.readline()` for a stackless body: exactly
    /// [`StreamReader::readline`].
    ///
    /// # Errors
    ///
    /// As [`StreamReader::readline`].
    #[track_caller]
    pub fn readline_stackless(&self) -> StreamReadLine {
        StreamReadLine(Waiting::new(
            self.clone(),
            ReadLine::new(),
            Location::caller(),
        ))
    }
}
