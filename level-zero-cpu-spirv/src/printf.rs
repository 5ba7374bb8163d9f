//! OpenCL C `printf` formatting (C99 conversions plus OpenCL's vector specifier `vN`).

use std::fmt::Write;

/// One printf argument as the kernel passed it.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// An integer of `bits` bits (zero-extended).
    Int(u64, u8),
    /// A float (OpenCL promotes `float` to `double` for printf).
    Float(f64),
    /// A pointer; `%s` reads the string it points to through the sanitizer.
    Ptr(u64),
    /// A vector argument (for `%vNx`).
    Vector(Vec<Arg>),
}

struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
    vec: Option<usize>,
    /// The length modifier's integer width (`hh` 8, `h` 16, `hl` 32, `l` 64).
    len: Option<u8>,
    conv: u8,
}

/// Formats `fmt` with `args`. `read_str` reads the nul-terminated string at an address (or
/// returns None when it is not accessible). Returns the text, or an error for a bad format.
/// The largest field width or precision printf formats (OpenCL sets none; this driver
/// refuses bigger ones with an error naming them).
pub(crate) const MAX_FIELD: usize = 4096;

pub(crate) fn format(
    fmt: &[u8],
    args: &[Arg],
    read_str: &mut dyn FnMut(u64) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut s = Spec {
            left: false,
            plus: false,
            space: false,
            alt: false,
            zero: false,
            width: None,
            prec: None,
            vec: None,
            len: None,
            conv: 0,
        };
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => s.left = true,
                b'+' => s.plus = true,
                b' ' => s.space = true,
                b'#' => s.alt = true,
                b'0' => s.zero = true,
                _ => break,
            }
            i += 1;
        }
        // A field width, precision or vector size: digits, at most `MAX_FIELD` (a bigger
        // one is refused by name rather than formatted: its text could exhaust memory).
        let num = |i: &mut usize| -> Result<Option<usize>, String> {
            let st = *i;
            while fmt.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            if st == *i {
                return Ok(None);
            }
            let digits = String::from_utf8_lossy(&fmt[st..*i]);
            match digits.parse::<usize>() {
                Ok(n) if n <= MAX_FIELD => Ok(Some(n)),
                _ => Err(format!(
                    "printf: a field width or precision of {digits} in \"{}\" exceeds this driver's limit of {MAX_FIELD}",
                    String::from_utf8_lossy(fmt)
                )),
            }
        };
        s.width = num(&mut i)?;
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            s.prec = Some(num(&mut i)?.unwrap_or(0));
        }
        if fmt.get(i) == Some(&b'v') {
            i += 1;
            s.vec = num(&mut i)?;
        }
        // Length modifiers: an integer argument is converted to the modifier's width before
        // it is printed (C99: `%hhd` of 300 prints 44); floats keep their own type.
        let start = i;
        while fmt.get(i).is_some_and(|&m| m == b'h' || m == b'l') {
            i += 1;
        }
        s.len = match &fmt[start..i] {
            b"" => None,
            b"hh" => Some(8),
            b"h" => Some(16),
            b"hl" => Some(32),
            b"l" => Some(64),
            other => {
                return Err(format!(
                    "printf: unknown length modifier `{}`",
                    String::from_utf8_lossy(other)
                ));
            }
        };
        s.conv = *fmt
            .get(i)
            .ok_or("printf: incomplete conversion at the end of the format")?;
        i += 1;
        let a = it
            .next()
            .ok_or("printf: fewer arguments than conversions")?;
        match (s.vec, a) {
            (Some(n), Arg::Vector(parts)) if n != parts.len() => {
                return Err(format!(
                    "printf: `%v{n}` conversion of a {}-component vector",
                    parts.len()
                ));
            }
            (Some(n), Arg::Int(..) | Arg::Float(_) | Arg::Ptr(_)) => {
                return Err(format!("printf: `%v{n}` conversion of a scalar"));
            }
            (None, Arg::Vector(parts)) => {
                return Err(format!(
                    "printf: a {}-component vector for a conversion without a vector specifier",
                    parts.len()
                ));
            }
            (Some(_), Arg::Vector(parts)) => {
                for (k, p) in parts.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    one(&s, p, &mut out, read_str)?;
                }
            }
            _ => one(&s, a, &mut out, read_str)?,
        }
    }
    Ok(out)
}

fn pad(s: &Spec, body: String, numeric: bool, out: &mut Vec<u8>) {
    let w = s.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= w {
        out.extend_from_slice(body.as_bytes());
    } else if s.left {
        out.extend_from_slice(body.as_bytes());
        out.extend(std::iter::repeat_n(b' ', w - len));
    } else if s.zero
        && numeric
        && s.prec
            .is_none_or(|_| !matches!(s.conv, b'd' | b'i' | b'u' | b'x' | b'X' | b'o'))
    {
        // Zeros go after the sign / 0x prefix.
        let (sign, rest) = match body.as_bytes().first() {
            Some(b'-' | b'+' | b' ') => body.split_at(1),
            _ => ("", body.as_str()),
        };
        let (pre, rest) = if rest.starts_with("0x") || rest.starts_with("0X") {
            rest.split_at(2)
        } else {
            ("", rest)
        };
        out.extend_from_slice(sign.as_bytes());
        out.extend_from_slice(pre.as_bytes());
        out.extend(std::iter::repeat_n(b'0', w - len));
        out.extend_from_slice(rest.as_bytes());
    } else {
        out.extend(std::iter::repeat_n(b' ', w - len));
        out.extend_from_slice(body.as_bytes());
    }
}

fn sext(v: u64, bits: u8) -> i64 {
    crate::ops::sext(v, bits)
}

fn one(
    s: &Spec,
    a: &Arg,
    out: &mut Vec<u8>,
    read_str: &mut dyn FnMut(u64) -> Option<Vec<u8>>,
) -> Result<(), String> {
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if s.plus {
            "+"
        } else if s.space {
            " "
        } else {
            ""
        }
    };
    match s.conv {
        b'd' | b'i' | b'u' | b'x' | b'X' | b'o' | b'c' => {
            let (v, bits) = match a {
                // Narrowed to the length modifier's width (wider modifiers than the
                // argument are undefined in C: the argument's own width is printed).
                Arg::Int(v, b) => match s.len {
                    Some(l) if l < *b => (*v & crate::ops::mask(l), l),
                    _ => (*v, *b),
                },
                Arg::Ptr(p) => (*p, 64),
                Arg::Float(f) => (*f as i64 as u64, 64),
                Arg::Vector(_) => {
                    return Err("printf: vector argument for a scalar conversion".into());
                }
            };
            let body = match s.conv {
                b'd' | b'i' => {
                    let x = sext(v, bits);
                    let mut digits = x.unsigned_abs().to_string();
                    if let Some(p) = s.prec {
                        while digits.len() < p {
                            digits.insert(0, '0');
                        }
                    }
                    format!("{}{}", sign(x < 0), digits)
                }
                b'u' => zero_prec(v.to_string(), s.prec),
                b'x' => format!(
                    "{}{}",
                    if s.alt && v != 0 { "0x" } else { "" },
                    zero_prec(format!("{v:x}"), s.prec)
                ),
                b'X' => format!(
                    "{}{}",
                    if s.alt && v != 0 { "0X" } else { "" },
                    zero_prec(format!("{v:X}"), s.prec)
                ),
                b'o' => format!(
                    "{}{}",
                    if s.alt { "0" } else { "" },
                    zero_prec(format!("{v:o}"), s.prec)
                ),
                _ => char::from(v as u8).to_string(),
            };
            pad(s, body, s.conv != b'c', out);
        }
        b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' => {
            let x = match a {
                Arg::Float(f) => *f,
                Arg::Int(v, b) => sext(*v, *b) as f64,
                _ => return Err("printf: non-float argument for a float conversion".into()),
            };
            let body = float(s, x, sign(x.is_sign_negative() && !x.is_nan()));
            pad(s, body, x.is_finite(), out);
        }
        b's' => {
            let p = match a {
                Arg::Ptr(p) => *p,
                Arg::Int(v, _) => *v,
                _ => return Err("printf: %s needs a pointer".into()),
            };
            let mut bytes = read_str(p)
                .ok_or_else(|| format!("printf: %s argument {p:#x} is not a readable string"))?;
            if let Some(pr) = s.prec {
                bytes.truncate(pr);
            }
            pad(s, String::from_utf8_lossy(&bytes).into_owned(), false, out);
        }
        b'p' => {
            let p = match a {
                Arg::Ptr(p) | Arg::Int(p, _) => *p,
                _ => return Err("printf: %p needs a pointer".into()),
            };
            pad(s, format!("{p:#x}"), false, out);
        }
        c => return Err(format!("printf: unknown conversion `%{}`", char::from(c))),
    }
    Ok(())
}

fn zero_prec(mut d: String, prec: Option<usize>) -> String {
    if let Some(p) = prec {
        while d.len() < p {
            d.insert(0, '0');
        }
    }
    d
}

fn float(s: &Spec, x: f64, sign: &str) -> String {
    let upper = s.conv.is_ascii_uppercase();
    if x.is_nan() {
        return if upper { "NAN".into() } else { "nan".into() };
    }
    if x.is_infinite() {
        let b = if upper { "INF" } else { "inf" };
        return format!("{sign}{b}");
    }
    let a = x.abs();
    let prec = s.prec.unwrap_or(6);
    let body = match s.conv.to_ascii_lowercase() {
        b'f' => format!("{a:.prec$}"),
        b'e' => exp_form(a, prec),
        b'g' => {
            let p = if prec == 0 { 1 } else { prec };
            let e = if a == 0.0 { 0 } else { exp_of(a, p) };
            let mut t = if e < -4 || e >= p as i32 {
                exp_form(a, p - 1)
            } else {
                format!("{a:.*}", (p as i32 - 1 - e).max(0) as usize)
            };
            if !s.alt {
                t = strip_zeros(t);
            }
            t
        }
        _ => hex_float(a, s.prec),
    };
    let body = if upper { body.to_uppercase() } else { body };
    format!("{sign}{body}")
}

/// The decimal exponent of `a` after rounding to `p` significant digits.
fn exp_of(a: f64, p: usize) -> i32 {
    let t = format!("{a:.*e}", p.saturating_sub(1));
    t.split('e')
        .nth(1)
        .and_then(|e| e.parse().ok())
        .unwrap_or(0)
}

fn exp_form(a: f64, prec: usize) -> String {
    let t = format!("{a:.prec$e}");
    let (m, e) = t.split_once('e').unwrap_or((&t, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let mut out = String::new();
    let _ = write!(out, "{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    out
}

fn strip_zeros(t: String) -> String {
    let (m, e) = match t.find('e') {
        Some(k) => (t[..k].to_string(), t[k..].to_string()),
        None => (t.clone(), String::new()),
    };
    let m = if m.contains('.') {
        m.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        m
    };
    m + &e
}

fn hex_float(a: f64, prec: Option<usize>) -> String {
    if a == 0.0 {
        return "0x0p+0".into();
    }
    let bits = a.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    let lead = if exp == 0 {
        exp = -1022;
        0
    } else {
        exp -= 1023;
        1
    };
    let mut digits = format!("{mant:013x}");
    if let Some(p) = prec {
        if p < 13 {
            let shift = 4 * (13 - p);
            let round = (mant >> (shift - 1)) & 1;
            mant = (mant >> shift) + round;
            digits = if p == 0 {
                String::new()
            } else {
                format!("{mant:0p$x}")
            };
        }
    } else {
        digits = digits.trim_end_matches('0').to_string();
    }
    let dot = if digits.is_empty() { "" } else { "." };
    format!(
        "0x{lead}{dot}{digits}p{}{}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Arg]) -> String {
        String::from_utf8(format(fmt.as_bytes(), args, &mut |_| Some(b"str".to_vec())).unwrap())
            .unwrap()
    }

    #[test]
    fn huge_widths_and_precisions_are_refused_by_name() {
        let run = |fmt: &str| format(fmt.as_bytes(), &[Arg::Int(7, 32)], &mut |_| None);
        assert_eq!(run("%4096d").map(|v| v.len()), Ok(4096));
        for fmt in [
            "%4097d",
            "%.80000d",
            "%300000000d",
            "%99999999999999999999999d",
        ] {
            let e = run(fmt).expect_err(fmt);
            assert!(e.contains("limit of 4096") && e.contains(fmt), "{fmt}: {e}");
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(
            f(
                "%d|%5d|%-5d|%05d",
                &[
                    Arg::Int(0xffff_fffe, 32),
                    Arg::Int(42, 32),
                    Arg::Int(7, 32),
                    Arg::Int(0xffff_fff9, 32)
                ]
            ),
            "-2|   42|7    |-0007"
        );
        assert_eq!(
            f(
                "%x %X %#x %o %u",
                &[
                    Arg::Int(255, 32),
                    Arg::Int(255, 32),
                    Arg::Int(255, 32),
                    Arg::Int(8, 32),
                    Arg::Int(0xffff_ffff, 32)
                ]
            ),
            "ff FF 0xff 10 4294967295"
        );
        assert_eq!(
            f(
                "%.3f %e %g %g",
                &[
                    Arg::Float(1.5),
                    Arg::Float(12345.678),
                    Arg::Float(0.0001),
                    Arg::Float(1e20)
                ]
            ),
            "1.500 1.234568e+04 0.0001 1e+20"
        );
        assert_eq!(f("%s %c %%", &[Arg::Ptr(1), Arg::Int(65, 32)]), "str A %");
        assert_eq!(
            f(
                "%v4d",
                &[Arg::Vector(vec![
                    Arg::Int(1, 32),
                    Arg::Int(2, 32),
                    Arg::Int(3, 32),
                    Arg::Int(4, 32)
                ])]
            ),
            "1,2,3,4"
        );
        assert_eq!(f("%a", &[Arg::Float(1.0)]), "0x1p+0");
    }

    fn err(fmt: &str, args: &[Arg]) -> String {
        match format(fmt.as_bytes(), args, &mut |_| Some(b"str".to_vec())) {
            Ok(t) => panic!("`{fmt}` formatted as {:?}", String::from_utf8_lossy(&t)),
            Err(e) => e,
        }
    }

    #[test]
    fn length_modifiers_narrow_integers() {
        // C99: the argument is converted to the modifier's type before printing.
        assert_eq!(
            f("%hhd %hhu", &[Arg::Int(300, 32), Arg::Int(300, 32)]),
            "44 44"
        );
        assert_eq!(f("%hhd", &[Arg::Int(0xff, 32)]), "-1");
        assert_eq!(
            f("%hd %hx", &[Arg::Int(0x1_8000, 32), Arg::Int(0x12345, 32)]),
            "-32768 2345"
        );
        assert_eq!(f("%ld", &[Arg::Int(u64::MAX, 64)]), "-1");
        assert_eq!(
            f(
                "%v2hld",
                &[Arg::Vector(vec![
                    Arg::Int(1, 32),
                    Arg::Int(0xffff_ffff, 32)
                ])]
            ),
            "1,-1"
        );
        assert_eq!(
            f(
                "%v2hhx",
                &[Arg::Vector(vec![Arg::Int(0x1ff, 32), Arg::Int(2, 32)])]
            ),
            "ff,2"
        );
        assert!(err("%lld", &[Arg::Int(1, 64)]).contains("`ll`"));
    }

    #[test]
    fn mismatched_vector_specifiers_and_pointers_are_errors() {
        let v2 = Arg::Vector(vec![Arg::Int(1, 32), Arg::Int(2, 32)]);
        assert!(err("%v4hld", std::slice::from_ref(&v2)).contains("%v4"));
        assert!(err("%v2d", &[Arg::Int(1, 32)]).contains("scalar"));
        assert!(err("%d", std::slice::from_ref(&v2)).contains("vector"));
        assert!(err("%f", std::slice::from_ref(&v2)).contains("vector"));
        assert!(err("%p", &[Arg::Float(1.0)]).contains("%p"));
        assert!(err("%q", &[Arg::Int(1, 32)]).contains("%q"));
    }
}
