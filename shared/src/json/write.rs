//! Compact JSON written byte for byte as `serde_json::to_writer` writes it, into a
//! `Vec<u8>`, for outputs written in bulk (`check`'s JSON lines). serde_json looks at each
//! byte of a string for one to escape; most strings here (ARNs, account ids, reasons,
//! policy text) hold none, so this looks at eight bytes at a time and copies runs whole.
//! The tests hold it to serde_json's own output.

use super::special_bits;
use serde::ser::{self, Error as _, Serialize};
use serde_json::Error;
use std::cell::{Cell, RefCell};

/// `value` as compact JSON, appended to `out`. On an error `out` may hold part of it.
pub fn to_vec_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// `value` as compact JSON.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(128);
    to_vec_into(&mut out, value)?;
    Ok(out)
}

/// The serializer: everything goes straight into `out`.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

// serde asks for each integer type by name; all are written the same way.
macro_rules! integers {
    (|$this:ident, $v:ident| $body:expr) => {
        integers!(@ $this $v $body;
            serialize_i8 i8, serialize_i16 i16, serialize_i32 i32, serialize_i64 i64,
            serialize_i128 i128, serialize_u8 u8, serialize_u16 u16, serialize_u32 u32,
            serialize_u64 u64, serialize_u128 u128);
    };
    (@ $this:ident $v:ident $body:expr; $($name:ident $t:ty),*) => {$(
        fn $name(self, $v: $t) -> Result<(), Error> {
            let $this = self;
            $body
        }
    )*};
}

/// serde_json's name for a raw JSON value, which it writes as the text it holds. No
/// output written here holds one; were one passed, it is refused rather than written as
/// an object (a shape serde_json would not write).
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// The name under which [`verbatim`] passes its text to this writer.
const VERBATIM: &str = "$crossguard::json::write::verbatim";

thread_local! {
    /// The text [`verbatim`] hands this writer, and whether it is waiting to be taken.
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Serialize JSON `text` that is exactly what serde_json writes for its value, compact
/// (`policy::as_serde_json_writes`): this writer copies it as it is; every other
/// serializer gets `value`, the same JSON through serde (`text` read again: pretty
/// output indents it, a value serializer builds it). The text goes by a thread-local
/// slot, armed only for this one call and taken by the writer's newtype struct of the
/// name; emptied after (its room is kept for the next).
pub(crate) fn verbatim<S: ser::Serializer, T: Serialize + ?Sized>(
    s: S,
    text: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    TEXT.with(|t| {
        let mut t = t.borrow_mut();
        t.clear();
        t.extend_from_slice(text.as_bytes());
    });
    ARMED.set(true);
    let r = s.serialize_newtype_struct(VERBATIM, value);
    ARMED.set(false);
    TEXT.with(|t| t.borrow_mut().clear());
    r
}

/// `s` quoted, with what JSON requires escaped, as serde_json escapes it: `"` and `\`
/// by a backslash, control characters as `\b \t \n \f \r` or `\u00xx` (lower-case hex);
/// everything else (`/`, DEL, non-ASCII) as it is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut run = 0;
    // Most strings hold nothing to escape: one test per eight bytes, one copy.
    while let Some(at) = first_escape(b, run) {
        out.extend_from_slice(&b[run..at]);
        escape(out, b[at]);
        run = at + 1;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// Where the first byte at or after `from` that JSON requires escaped is: eight bytes at
/// a time, the last eight read again where they overlap (the bytes read twice hold
/// nothing to escape, so the lowest bit found is exact). Each word is read from the text
/// itself: copying a short tail into a padded word made the read wait for the copy.
fn first_escape(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    if rest.len() < 8 {
        return short_escape(rest).map(|k| from + k);
    }
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for chunk in &mut chunks {
        let bits = special_bits(word(chunk));
        if bits != 0 {
            return Some(at + bits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    if chunks.remainder().is_empty() {
        return None;
    }
    let last = b.len() - 8;
    let bits = special_bits(word(&b[last..]));
    (bits != 0).then(|| last + bits.trailing_zeros() as usize / 8)
}

/// Eight bytes as a little-endian word.
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(chunk);
    u64::from_le_bytes(w)
}

/// [`first_escape`] of fewer than eight bytes (most keys and short values): four to seven
/// as two overlapping four-byte reads in one word, the first read's bytes first.
fn short_escape(b: &[u8]) -> Option<usize> {
    let n = b.len();
    if n < 4 {
        return b.iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\');
    }
    let mut lo = [0; 4];
    let mut hi = [0; 4];
    lo.copy_from_slice(&b[..4]);
    hi.copy_from_slice(&b[n - 4..]);
    let w = u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32;
    let bits = special_bits(w);
    if bits == 0 {
        return None;
    }
    // A byte of the second read stands at `n - 4 + (k - 4)`; one in both reads is
    // found in the first, so the lowest bit is the first byte to escape.
    let k = bits.trailing_zeros() as usize / 8;
    Some(if k < 4 { k } else { n + k - 8 })
}

fn escape(out: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match c {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

impl Writer<'_> {
    fn int(&mut self, v: impl itoa::Integer) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
    fn float<F: zmij::Float>(&mut self, v: F, finite: bool) {
        if finite {
            self.out
                .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            // As serde_json: JSON has no NaN or infinity.
            self.out.extend_from_slice(b"null");
        }
    }
    /// `{"variant":` of an enum variant written as a one-member object.
    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

/// A list or object being written: whether a member was written yet.
pub struct Compound<'a, 'b> {
    w: &'b mut Writer<'a>,
    first: bool,
    /// What closes it: `]`, `}`, or `]}` / `}}` for an enum variant's.
    close: &'static [u8],
}

impl Compound<'_, '_> {
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.w.out.push(b',');
        }
    }
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.comma();
        write_str(self.w.out, key);
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }
    fn close(self) -> Result<(), Error> {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a, 'b> ser::Serializer for &'b mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(|w, v| {
        w.int(v);
        Ok(())
    });
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v, v.is_finite());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v, v.is_finite());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // As serde_json: a list of numbers.
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name == VERBATIM && ARMED.replace(false) {
            TEXT.with(|t| self.out.extend_from_slice(&t.borrow()));
            return Ok(());
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            close: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.open_variant(variant);
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            close: b"]}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            close: b"}",
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'a, 'b>, Error> {
        if name == RAW_VALUE {
            return Err(Error::custom("a raw JSON value cannot be written here"));
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.open_variant(variant);
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            close: b"}}",
        })
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(Key(&mut *self.w))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

// serde asks the same of each kind of list and of record under different trait names.
macro_rules! elements {
    ($($list:ident::$method:ident),*) => {$(
        impl ser::$list for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}
elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! fields {
    ($($record:ident),*) => {$(
        impl ser::$record for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}
fields!(SerializeStruct, SerializeStructVariant);

/// A map key, as serde_json writes one: a string as it is; a number, a bool or a char
/// quoted; anything else refused.
struct Key<'a, 'b>(&'b mut Writer<'a>);

impl Key<'_, '_> {
    fn quoted(self, text: &str) -> Result<(), Error> {
        write_str(self.0.out, text);
        Ok(())
    }
    fn refused() -> Error {
        Error::custom("key must be a string")
    }
}

impl<'a, 'b> ser::Serializer for Key<'a, 'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.quoted(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.quoted(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { "true" } else { "false" })
    }
    // serde_json quotes an integer key.
    integers!(|k, v| k.quoted(itoa::Buffer::new().format(v)));
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(Error::custom("float key must be finite"));
        }
        self.quoted(zmij::Buffer::new().format_finite(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(Error::custom("float key must be finite"));
        }
        self.quoted(zmij::Buffer::new().format_finite(v))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.quoted(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(Self::refused())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(Self::refused())
    }
    // serde_json writes the key inside.
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(Self::refused())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(Self::refused())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(Self::refused())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Self::refused())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Self::refused())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Self::refused())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(Self::refused())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Self::refused())
    }
}

#[cfg(test)]
mod tests;
