//! A small JSON reader, for reading snapshots the way the browser does where there is no
//! browser: in tests and in the `json` fuzz target (feature `browser-json`). The browser
//! parses with its own `JSON.parse`; both results are read by the same [`decode`](super::decode)
//! code, so this checks that code against serde's reading of the same documents. It reads
//! just what the server writes: objects, arrays, strings (every escape, surrogate pairs
//! included; a lone surrogate is U+FFFD, as in the browser), integers, `true`, `false`,
//! `null`. A number with a fraction or an exponent is read as "not an integer" (no snapshot
//! field is one). Anything malformed is `None`, never a panic.

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer that fits `i64`; `None` for any other number.
    Number(Option<i64>),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn parse(text: &str) -> Option<Value> {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let v = p.value(0)?;
        p.ws();
        (p.i == p.s.len()).then_some(v)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => *n,
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// `v["key"]`: the member, or null when absent or when `v` is not an object.
impl std::ops::Index<&str> for Value {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }
}

/// Nesting deeper than this is refused (a snapshot nests four levels).
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn word(&mut self, w: &[u8], v: Value) -> Option<Value> {
        self.s[self.i..].starts_with(w).then(|| {
            self.i += w.len();
            v
        })
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'n' => self.word(b"null", Value::Null),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.eat(b']').is_some() {
                        return Some(Value::Array(items));
                    }
                    self.eat(b',')?;
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                if self.eat(b'}').is_some() {
                    return Some(Value::Object(members));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    members.push((key, self.value(depth + 1)?));
                    if self.eat(b'}').is_some() {
                        return Some(Value::Object(members));
                    }
                    self.eat(b',')?;
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let digits = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        if self.i == digits {
            return None;
        }
        let integer = std::str::from_utf8(&self.s[start..self.i]).ok()?.parse::<i64>().ok();
        let mut whole = true;
        while self.s.get(self.i).is_some_and(|c| matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'0'..=b'9')) {
            whole = false;
            self.i += 1;
        }
        Some(Value::Number(integer.filter(|_| whole)))
    }

    /// `\\uDC00`–`\\uDFFF` next: its code, past it; anything else: `None`, nothing read.
    fn low_surrogate(&mut self) -> Option<u32> {
        let start = self.i;
        if self.s.get(self.i..self.i + 2)? == b"\\u" {
            self.i += 2;
            if let Some(lo) = self.hex4().filter(|lo| (0xDC00..0xE000).contains(lo)) {
                return Some(lo);
            }
        }
        self.i = start;
        None
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            // A surrogate pair is one character. A lone surrogate, which JSON
                            // allows and `JSON.parse` keeps, is U+FFFD once the browser's string
                            // is a Rust one (as wasm-bindgen copies it): so here too.
                            match (0xD800..0xDC00).contains(&hi).then(|| self.low_surrogate()).flatten() {
                                Some(lo) => char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?,
                                None => char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER),
                            }
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_writes() {
        let original = serde_json::json!({
            "s": "tab\there \"quoted\" \\ / line\nbreak <tag> é 😀 \u{1}",
            "n": -42, "big": 9_007_199_254_740_993_i64, "f": 1.5, "e": 1e3,
            "t": true, "no": false, "null": null,
            "list": [1, [2, []], {"k": "v"}], "empty": {}
        });
        let v = Value::parse(&original.to_string()).unwrap();
        assert_eq!(v["s"].as_str(), original["s"].as_str());
        assert_eq!(v["n"].as_i64(), Some(-42));
        assert_eq!(v["big"].as_i64(), Some(9_007_199_254_740_993));
        assert_eq!((v["f"].as_i64(), v["e"].as_i64()), (None, None), "not integers");
        assert_eq!((v["t"].clone(), v["no"].clone()), (Value::Bool(true), Value::Bool(false)));
        assert!(v["null"].is_null() && v["absent"].is_null() && v["s"]["x"].is_null());
        let Value::Array(list) = &v["list"] else { panic!() };
        assert_eq!(list[2]["k"].as_str(), Some("v"));
        assert_eq!(v["empty"], Value::Object(vec![]));
        assert_eq!(Value::parse(r#""\ud83d\ude00""#), Some(Value::String("😀".into())), "a surrogate pair");
        // Lone surrogates, as the browser's strings have them once in Rust.
        for (lone, read) in [(r#""\ud83d""#, "\u{FFFD}"), (r#""\ud83d\u0041""#, "\u{FFFD}A"), (r#""x\ude00""#, "x\u{FFFD}")] {
            assert_eq!(Value::parse(lone), Some(Value::String(read.into())), "{lone}");
        }
        assert_eq!(Value::parse(r#""\ud83d\u00zz""#), None, "a bad escape after a lone surrogate");
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "\"open",
            "tru",
            "nul",
            "-",
            "01x",
            "\"\\x\"",
            "\"a\u{1}\"",
            "[1] 2",
            "{a:1}",
        ] {
            assert_eq!(Value::parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(Value::parse(&deep), None, "nesting is bounded");
        assert_eq!(Value::parse(" [ ] "), Some(Value::Array(vec![])));
    }
}
