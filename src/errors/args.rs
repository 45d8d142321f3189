//! Python exception arguments: [`PyArg`] (a Python value) and the generic [`Exception`]
//! built from any number of them (`Exception('spam', 2)`).

use std::error::Error as StdError;
use std::fmt;

use super::{PyException, py_bytes_repr, py_float_repr, py_str_repr};

/// One of an exception's arguments, a Python value: `Exception('spam', 2)` has
/// `[PyArg::Str("spam"), PyArg::Int(2)]`. `From` makes them from Rust values.
#[derive(Debug, Clone, PartialEq)]
pub enum PyArg {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `bytes`.
    Bytes(Vec<u8>),
}

impl PyArg {
    /// Python's `repr()` of the value.
    pub fn repr(&self) -> String {
        match self {
            PyArg::None => "None".to_string(),
            PyArg::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            PyArg::Int(i) => i.to_string(),
            PyArg::Float(x) => py_float_repr(*x),
            PyArg::Str(s) => py_str_repr(s),
            PyArg::Bytes(b) => py_bytes_repr(b),
        }
    }

    /// Python's `str()` of the value.
    pub fn str(&self) -> String {
        match self {
            PyArg::Str(s) => s.clone(),
            other => other.repr(),
        }
    }
}

macro_rules! py_arg_from {
    ($($t:ty => $v:ident $(as $c:ty)?),* $(,)?) => {
        $(impl From<$t> for PyArg {
            fn from(x: $t) -> Self {
                PyArg::$v((x $(as $c)?).into())
            }
        })*
    };
}

py_arg_from!(
    bool => Bool, i64 => Int, i32 => Int as i64, u32 => Int as i64, f64 => Float,
    String => Str, &str => Str, Vec<u8> => Bytes,
);

impl From<()> for PyArg {
    fn from(_: ()) -> Self {
        PyArg::None
    }
}

/// Any other Python exception by name, for ports of Python programs:
/// `Exception::new("ZeroDivisionError", "division by zero")`, or with any arguments,
/// `Exception::with_args("Exception", ["spam".into(), "eggs".into()])`, printed by
/// [`py_repr`](super::py_repr) as Python prints them (`Exception('spam', 'eggs')`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// The Python class name.
    pub name: &'static str,
    /// Python's `args`.
    pub args: Vec<PyArg>,
}

impl Exception {
    /// An exception of class `name` with one message argument.
    pub fn new(name: &'static str, msg: impl Into<String>) -> Self {
        Self::with_args(name, [PyArg::Str(msg.into())])
    }

    /// An exception of class `name` with no arguments.
    pub fn bare(name: &'static str) -> Self {
        Self::with_args(name, [])
    }

    /// An exception of class `name` with `args` (Python's `Name(*args)`).
    pub fn with_args(name: &'static str, args: impl IntoIterator<Item = PyArg>) -> Self {
        Self {
            name,
            args: args.into_iter().collect(),
        }
    }

    /// `args[0]` when it is a string (the message).
    pub fn msg(&self) -> Option<&str> {
        match self.args.first() {
            Some(PyArg::Str(s)) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Exception {
    /// Python's `str(exc)`: `''`, the one argument's `str`, or the `repr` of the tuple.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.args.as_slice() {
            [] => Ok(()),
            [one] => f.write_str(&one.str()),
            many => write!(f, "({})", args_repr(many)),
        }
    }
}

fn args_repr(args: &[PyArg]) -> String {
    args.iter().map(PyArg::repr).collect::<Vec<_>>().join(", ")
}

impl StdError for Exception {}

impl PyException for Exception {
    fn py_name(&self) -> &str {
        self.name
    }
    fn py_arg(&self) -> Option<&str> {
        self.msg()
    }
    fn py_args_repr(&self) -> String {
        args_repr(&self.args)
    }
    fn py_str(&self) -> String {
        self.to_string()
    }
}
