//! Python's reprs of plain values ([`PyRepr`], `reprlib.repr`'s shortening) and of callback
//! names ([`py_qualname`]), of strings and bytes ([`py_str_repr`], [`py_bytes_repr`]), for the reprs asyncio prints: `<Future finished result=4>`,
//! `Exception in callback zero_error()`.

use std::fmt::Write as _;

/// Python's `__qualname__` for a Rust callable's [`std::any::type_name`]: the module path is
/// dropped (`my_crate::zero_error` is `zero_error`), a method keeps its type
/// (`tulip::EventLoop::stop` is `EventLoop.stop`), generic arguments are dropped, and a
/// closure is a lambda defined in its function (`my_crate::main::{{closure}}` is
/// `main.<locals>.<lambda>`, as a Python `lambda` written in `main`).
///
/// Rust's type names do not tell a module from a function nested in a function: a nested
/// `fn` keeps its own name only. Types are told from modules by their capital letter.
///
/// ```
/// use tulip::py_qualname;
///
/// assert_eq!(py_qualname("my_crate::handlers::zero_error"), "zero_error");
/// assert_eq!(py_qualname("tulip::event_loop::EventLoop::stop"), "EventLoop.stop");
/// assert_eq!(py_qualname("app::main::{{closure}}"), "main.<locals>.<lambda>");
/// assert_eq!(py_qualname("app::run<u8>::{{closure}}::{{closure}}"),
///            "run.<locals>.<lambda>.<locals>.<lambda>");
/// assert_eq!(py_qualname("Task.task_wakeup"), "Task.task_wakeup");
/// ```
pub fn py_qualname(type_name: &str) -> String {
    let plain = strip_generics(type_name);
    let segs: Vec<&str> = plain.split("::").filter(|s| !s.is_empty()).collect();
    let first_closure = segs
        .iter()
        .position(|s| s.starts_with("{{"))
        .unwrap_or(segs.len());
    let (path, rest) = segs.split_at(first_closure);
    let mut out = String::new();
    if let Some((last, before)) = path.split_last() {
        // The function, and the types it is a method of (`EventLoop::stop`).
        let types = before
            .iter()
            .rev()
            .take_while(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            .count();
        for t in &before[before.len() - types..] {
            out.push_str(t);
            out.push('.');
        }
        out.push_str(last);
    }
    for s in rest {
        if !out.is_empty() {
            out.push_str(".<locals>.");
        }
        out.push_str(if s.starts_with("{{closure") {
            "<lambda>"
        } else {
            s
        });
    }
    if out.is_empty() {
        type_name.to_string()
    } else {
        out
    }
}

/// `type_name` without its generic arguments (`<...>` after a name) and with a qualified
/// path (`<T as Trait>::f`) reduced to its trait's path.
fn strip_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' if out.is_empty() || out.ends_with("::") => {
                // `<T as Trait>::f`: keep the trait's path (the part after ` as `).
                let mut inner = String::new();
                let mut d = 1;
                for c in chars.by_ref() {
                    match c {
                        '<' => d += 1,
                        '>' => {
                            d -= 1;
                            if d == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                let tail = inner.rsplit(" as ").next().unwrap_or(&inner);
                out.push_str(&strip_generics(tail));
            }
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Python's `repr()` of a value, for the reprs that show a result (`<Future finished
/// result=4>`): implemented for integers, floats, `bool` (`True`), strings (`'text'`),
/// `()` and `None` (`None`), `Vec`s and slices (`[1, 2]`), tuples (`(1, 'a')`), `Option`
/// (the value or `None`) and references to these. Implement it for a type of your own to
/// see its results in [`Future::repr`](crate::Future::repr).
pub trait PyRepr {
    /// `repr(self)`.
    fn py_repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s, Limits::NONE);
        s
    }

    /// Writes the repr, shortened as `reprlib.repr` does within `limits` (long strings,
    /// lists and numbers elided with `...`). The default writes [`PyRepr::py_repr`] and
    /// shortens it as `reprlib` shortens an object it does not know (30 characters).
    fn write_repr(&self, out: &mut String, limits: Limits) {
        let full = self.py_repr();
        match limits.other {
            Some(max) => out.push_str(&shorten(&full, max)),
            None => out.push_str(&full),
        }
    }
}

/// How much of a value `reprlib.repr` shows (its `Repr` class attributes); see
/// [`PyRepr::write_repr`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Nesting levels shown (`maxlevel`); deeper containers print as `[...]`.
    pub level: Option<usize>,
    /// Items of a list or tuple shown (`maxlist`, `maxtuple`).
    pub items: Option<usize>,
    /// Characters of a string's repr (`maxstring`).
    pub string: Option<usize>,
    /// Digits of an integer's repr (`maxlong`).
    pub long: Option<usize>,
    /// Characters of any other repr (`maxother`).
    pub other: Option<usize>,
}

impl Limits {
    /// No shortening: Python's `repr()`.
    pub const NONE: Limits = Limits {
        level: None,
        items: None,
        string: None,
        long: None,
        other: None,
    };
    /// `reprlib.repr`'s defaults, what asyncio's reprs use.
    pub const REPRLIB: Limits = Limits {
        level: Some(6),
        items: Some(6),
        string: Some(30),
        long: Some(40),
        other: Some(30),
    };

    fn deeper(self) -> Limits {
        Limits {
            level: self.level.map(|l| l.saturating_sub(1)),
            ..self
        }
    }
}

/// `reprlib.repr(value)`: Python's repr shortened as asyncio's future reprs show results.
pub fn py_reprlib<T: PyRepr + ?Sized>(value: &T) -> String {
    let mut s = String::new();
    value.write_repr(&mut s, Limits::REPRLIB);
    s
}

/// reprlib's `_possibly_sorted`-free elision: the first and last characters around `...`.
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let i = max.saturating_sub(3) / 2;
    let j = max.saturating_sub(3) - i;
    let head: String = s.chars().take(i).collect();
    let tail: String = s.chars().skip(n - j).collect();
    format!("{head}...{tail}")
}

macro_rules! int_repr {
    ($($t:ty)*) => {$(
        impl PyRepr for $t {
            fn py_repr(&self) -> String {
                self.to_string()
            }
            fn write_repr(&self, out: &mut String, limits: Limits) {
                let s = self.to_string();
                match limits.long {
                    Some(max) => out.push_str(&shorten(&s, max)),
                    None => out.push_str(&s),
                }
            }
        }
    )*};
}

int_repr!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

/// Python's `repr(float)`: the shortest text that reads back the same value, with `.0` on
/// whole numbers, exponents from 1e16 up and below 1e-4, `inf` and `nan`.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` is the shortest round-trip digits: `1.2345e3`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..16).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let mut out = String::from(sign);
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

impl PyRepr for f64 {
    fn py_repr(&self) -> String {
        py_float_repr(*self)
    }
}

impl PyRepr for f32 {
    fn py_repr(&self) -> String {
        py_float_repr(f64::from(*self))
    }
}

impl PyRepr for bool {
    fn py_repr(&self) -> String {
        if *self { "True" } else { "False" }.to_string()
    }
}

impl PyRepr for () {
    fn py_repr(&self) -> String {
        "None".to_string()
    }
}

impl PyRepr for str {
    fn py_repr(&self) -> String {
        py_str_repr(self)
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        let s = py_str_repr(self);
        match limits.string {
            Some(max) => out.push_str(&shorten(&s, max)),
            None => out.push_str(&s),
        }
    }
}

impl PyRepr for String {
    fn py_repr(&self) -> String {
        self.as_str().py_repr()
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        self.as_str().write_repr(out, limits)
    }
}

impl<T: PyRepr + ?Sized> PyRepr for &T {
    fn py_repr(&self) -> String {
        (**self).py_repr()
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        (**self).write_repr(out, limits)
    }
}

impl<T: PyRepr + ?Sized> PyRepr for Box<T> {
    fn py_repr(&self) -> String {
        (**self).py_repr()
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        (**self).write_repr(out, limits)
    }
}

impl<T: PyRepr> PyRepr for Option<T> {
    fn py_repr(&self) -> String {
        match self {
            Some(v) => v.py_repr(),
            None => "None".to_string(),
        }
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        match self {
            Some(v) => v.write_repr(out, limits),
            None => out.push_str("None"),
        }
    }
}

/// A sequence as `[a, b]` or `(a, b)`, shortened as reprlib's `_repr_iterable`.
fn write_seq<'a, T: PyRepr + 'a>(
    out: &mut String,
    items: impl ExactSizeIterator<Item = &'a T>,
    limits: Limits,
    (open, close): (&str, &str),
) {
    let n = items.len();
    if n == 0 {
        let _ = write!(out, "{open}{close}");
        return;
    }
    if limits.level == Some(0) {
        let _ = write!(out, "{open}...{close}");
        return;
    }
    out.push_str(open);
    let shown = limits.items.map_or(n, |m| m.min(n));
    for (i, item) in items.take(shown).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out, limits.deeper());
    }
    if shown < n {
        out.push_str(", ...");
    }
    out.push_str(close);
}

impl<T: PyRepr> PyRepr for [T] {
    fn py_repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s, Limits::NONE);
        s
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        write_seq(out, self.iter(), limits, ("[", "]"))
    }
}

impl<T: PyRepr> PyRepr for Vec<T> {
    fn py_repr(&self) -> String {
        self.as_slice().py_repr()
    }
    fn write_repr(&self, out: &mut String, limits: Limits) {
        self.as_slice().write_repr(out, limits)
    }
}

macro_rules! tuple_repr {
    ($($name:ident)+) => {
        impl<$($name: PyRepr),+> PyRepr for ($($name,)+) {
            fn py_repr(&self) -> String {
                let mut s = String::new();
                self.write_repr(&mut s, Limits::NONE);
                s
            }
            #[allow(non_snake_case)]
            fn write_repr(&self, out: &mut String, limits: Limits) {
                let ($($name,)+) = self;
                let parts: Vec<String> = vec![$({
                    let mut s = String::new();
                    $name.write_repr(&mut s, limits.deeper());
                    s
                }),+];
                if limits.level == Some(0) {
                    out.push_str("(...)");
                    return;
                }
                let shown = limits.items.map_or(parts.len(), |m| m.min(parts.len()));
                out.push('(');
                out.push_str(&parts[..shown].join(", "));
                if shown < parts.len() {
                    out.push_str(", ...");
                } else if parts.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
        }
    };
}

tuple_repr!(A);
tuple_repr!(A B);
tuple_repr!(A B C);
tuple_repr!(A B C D);

/// Python's `repr()` of a string: single quotes unless the text holds one and no double quote.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a bytes object: `b'abc'`, with `\x..` escapes.
pub fn py_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualnames() {
        assert_eq!(py_qualname("zero_error"), "zero_error");
        assert_eq!(py_qualname("a::b::c::f"), "f");
        assert_eq!(
            py_qualname("t::case::{{closure}}::{{closure}}"),
            "case.<locals>.<lambda>.<locals>.<lambda>"
        );
        assert_eq!(
            py_qualname("a::Queue<i32>::put::{{closure}}"),
            "Queue.put.<locals>.<lambda>"
        );
        assert_eq!(
            py_qualname("<a::Foo as a::Bar>::go"),
            "Bar.go",
            "a trait method"
        );
    }

    #[test]
    fn floats_as_python() {
        for (x, py) in [
            (4.0, "4.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.125, "123456789.125"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1e15, "1000000000000000.0"),
        ] {
            assert_eq!(py_float_repr(x), py);
        }
    }

    #[test]
    fn reprlib_shortens_as_python() {
        let long = "x".repeat(40);
        assert_eq!(py_reprlib(&long), "'xxxxxxxxxxxx...xxxxxxxxxxxxx'");
        assert_eq!(
            py_reprlib(&(1..=10).collect::<Vec<i32>>()),
            "[1, 2, 3, 4, 5, 6, ...]"
        );
        assert_eq!(py_reprlib(&(1, "a")), "(1, 'a')");
        assert_eq!(py_reprlib(&(1,)), "(1,)");
        assert_eq!(py_reprlib(&Some(())), "None");
    }
}
