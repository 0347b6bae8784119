//! A CSV file read in pieces that end where a record ends, so that a large file is never held
//! whole: each piece is decoded (any encoding `encoding_rs` knows, a multi-byte character cut by
//! a read is carried into the next), split into [`Records`] that name the file's own lines, and
//! typed before the next is read.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use encoding_rs::{Decoder, DecoderResult, Encoding};

use super::intake::{Records, malformed};

/// The pieces of one CSV file, in file order: each is whole records, the last holding whatever
/// follows the last record break.
pub(crate) struct Chunks {
    path: PathBuf,
    file: File,
    /// The declared encoding, for the error of bytes that do not decode.
    label: Option<String>,
    /// `None` until the first read has looked for a byte-order mark.
    decoder: Option<(Decoder, &'static Encoding)>,
    /// Bytes read at a time.
    size: usize,
    /// Decoded text not handed on yet: the start of a record a read cut.
    carry: String,
    /// Line breaks in the bytes decoded so far, to name the line of a byte that does not decode.
    raw_lines: usize,
    /// The line the next piece starts on.
    line: usize,
    /// The file is read to its end.
    eof: bool,
    /// Every piece has been handed on.
    done: bool,
    /// Bytes read so far.
    read: u64,
    /// The file's length.
    len: u64,
}

impl Chunks {
    /// The pieces of the file at `path` read `size` bytes at a time (at least one record each,
    /// however long), decoded from `encoding` (UTF-8 when `None`; a byte-order mark wins).
    pub(crate) fn open(path: &Path, encoding: Option<&str>, size: usize) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read the file: {e}"))?
            .len();
        if len == 0 {
            return Err("the file is empty (0 bytes): it needs a header line and data rows".into());
        }
        if let Some(label) = encoding
            && Encoding::for_label_no_replacement(label.as_bytes()).is_none()
        {
            return Err(format!("unknown encoding `{label}`"));
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            label: encoding.map(str::to_string),
            decoder: None,
            size: size.max(1),
            carry: String::new(),
            raw_lines: 0,
            line: 1,
            eof: false,
            done: false,
            read: 0,
            len,
        })
    }

    /// How far through the file the pieces handed on so far reach, from 0 to 1.
    pub(crate) fn fraction_read(&self) -> f64 {
        if self.len == 0 {
            1.0
        } else {
            (self.read as f64 - self.carry.len() as f64).max(0.0) / self.len as f64
        }
    }

    /// Reads up to `size` bytes (fewer only at the end of the file; the first read takes at
    /// least the four bytes a byte-order mark may need).
    fn read_bytes(&mut self) -> Result<Vec<u8>, String> {
        let size = if self.decoder.is_none() {
            self.size.max(4)
        } else {
            self.size
        };
        let mut buf = Vec::with_capacity(size);
        (&mut self.file)
            .take(size as u64)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read the file: {e}"))?;
        self.read += buf.len() as u64;
        if buf.len() < size {
            self.eof = true;
        }
        Ok(buf)
    }

    /// Reads and decodes the next bytes onto `carry`.
    fn decode_more(&mut self) -> Result<(), String> {
        let bytes = self.read_bytes()?;
        let skip = match self.decoder {
            Some(_) => 0,
            None => {
                let (enc, skip) = match Encoding::for_bom(&bytes) {
                    Some((e, n)) => (e, n),
                    None => match &self.label {
                        Some(label) => (
                            Encoding::for_label_no_replacement(label.as_bytes())
                                .expect("checked when opened"),
                            0,
                        ),
                        None => (encoding_rs::UTF_8, 0),
                    },
                };
                self.decoder = Some((enc.new_decoder_without_bom_handling(), enc));
                skip
            }
        };
        let (decoder, enc) = self.decoder.as_mut().expect("set above");
        let mut src = &bytes[skip..];
        loop {
            let need = decoder
                .max_utf8_buffer_length_without_replacement(src.len())
                .ok_or("the file is too large to decode")?;
            self.carry.reserve(need);
            let (result, read) =
                decoder.decode_to_string_without_replacement(src, &mut self.carry, self.eof);
            match result {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => src = &src[read..],
                DecoderResult::Malformed(bad, after) => {
                    let at = (skip + (bytes.len() - skip - src.len()) + read)
                        .saturating_sub(after as usize + bad as usize);
                    let enc = *enc;
                    return Err(self.malformed(&bytes, at, bad as usize, enc));
                }
            }
        }
        self.raw_lines += memchr::memchr_iter(b'\n', &bytes).count();
        Ok(())
    }

    /// The error of `bad` bytes at `at` of `bytes`, the latest read, that do not decode.
    fn malformed(&self, bytes: &[u8], at: usize, bad: usize, enc: &'static Encoding) -> String {
        let line = self.raw_lines + memchr::memchr_iter(b'\n', &bytes[..at]).count() + 1;
        let reads_as_gbk = || {
            std::fs::read(&self.path).is_ok_and(|whole| {
                encoding_rs::GBK
                    .decode_without_bom_handling_and_without_replacement(&whole)
                    .is_some()
            })
        };
        malformed(
            &bytes[at..(at + bad).min(bytes.len())],
            line,
            enc,
            self.label.as_deref(),
            reads_as_gbk,
        )
    }
}

impl Iterator for Chunks {
    type Item = Result<Records, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if let Err(e) = self.decode_more() {
                self.done = true;
                return Some(Err(e));
            }
            let text = if self.eof {
                self.done = true;
                std::mem::take(&mut self.carry)
            } else {
                match last_record_end(self.carry.as_bytes()) {
                    Some(cut) => {
                        let rest = self.carry[cut..].to_string();
                        let mut text = std::mem::replace(&mut self.carry, rest);
                        text.truncate(cut);
                        text
                    }
                    None => continue,
                }
            };
            return Some(match Records::split_from(text, self.line) {
                Ok((records, next)) => {
                    self.line = next;
                    Ok(records)
                }
                Err(e) => {
                    self.done = true;
                    Err(e)
                }
            });
        }
    }
}

/// Where the last record of `text` that a line feed ends stops (just past the `\n`), reading
/// from the start of a record as [`Records::split`] does: a `"` opens quotes only as a field's
/// first character, `""` inside quotes is a quote, and a line break inside quotes is text.
/// `None` when no record in `text` is ended by a line feed.
pub(crate) fn last_record_end(text: &[u8]) -> Option<usize> {
    let mut last = None;
    let mut i = 0;
    let mut field_start = true;
    while i < text.len() {
        if field_start && text[i] == b'"' {
            i += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &text[i..]) else {
                    return last;
                };
                i += k + 1;
                match text.get(i) {
                    Some(b'"') => i += 1,
                    Some(_) => break,
                    // The quote may be the first of `""` the next read holds.
                    None => return last,
                }
            }
            field_start = false;
            continue;
        }
        let Some(k) = memchr::memchr3(b',', b'\n', b'\r', &text[i..]) else {
            return last;
        };
        i += k + 1;
        if text[i - 1] == b'\n' {
            last = Some(i);
        }
        field_start = true;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &[u8], size: usize, encoding: Option<&str>) -> Result<Vec<Records>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        Chunks::open(&path, encoding, size)?.collect()
    }

    fn lines_and_fields(recs: &[Records]) -> Vec<(usize, Vec<String>)> {
        recs.iter()
            .flat_map(|r| {
                (0..r.len()).map(move |i| (r.line(i), r.fields(i).map(str::to_string).collect()))
            })
            .collect()
    }

    #[test]
    fn a_record_ends_at_a_line_feed_outside_quotes() {
        assert_eq!(last_record_end(b"a,b\nc,d\n"), Some(8));
        assert_eq!(last_record_end(b"a,b\nc,d"), Some(4));
        assert_eq!(last_record_end(b"a,\"b\nc\",d"), None);
        assert_eq!(last_record_end(b"a,\"b\nc\",d\ne"), Some(10));
        assert_eq!(
            last_record_end(b"a,b\"c\nd"),
            Some(6),
            "a quote inside a field is text"
        );
        assert_eq!(
            last_record_end(b"\"a\"\"\n\"\nb"),
            Some(7),
            "`\"\"` inside quotes"
        );
        assert_eq!(
            last_record_end(b"x\n\"a\""),
            Some(2),
            "a closing quote at the end waits"
        );
        assert_eq!(last_record_end(b"a\r\nb\rc"), Some(3));
        assert_eq!(last_record_end(b"a\rb"), None, "only a line feed cuts");
        assert_eq!(last_record_end(b""), None);
    }

    #[test]
    fn pieces_of_any_size_are_the_records_of_the_whole_file() {
        let text =
            "k,\"n\nm\",x\r\n\n1,\"say \"\"hi\"\"\",2\n2,茶滘,\"3\"\r\n3,\"a,b\",\n\n4,x\"y,5";
        let whole = Records::split(text).unwrap();
        let want: Vec<(usize, Vec<String>)> = (0..whole.len())
            .map(|i| (whole.line(i), whole.fields(i).map(str::to_string).collect()))
            .collect();
        for size in 1..=text.len() + 1 {
            let got = pieces(text.as_bytes(), size, None).unwrap();
            assert_eq!(lines_and_fields(&got), want, "{size} bytes a read");
        }
    }

    #[test]
    fn pieces_decode_any_encoding_across_reads() {
        let text = "code,街道\n1,茶滘\n2,东漖\n3,石碁\n";
        let (gb18030, _, bad) = encoding_rs::GB18030.encode(text);
        assert!(!bad);
        // UTF-16 is written only with its byte-order mark.
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                text.encode_utf16()
                    .flat_map(|u| u.to_le_bytes())
                    .collect::<Vec<_>>(),
            )
            .collect();
        let want = lines_and_fields(&[Records::split(text).unwrap()]);
        for size in 1..12 {
            for (bytes, label) in [
                (text.as_bytes().to_vec(), None),
                ([b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(), None),
                (gb18030.to_vec(), Some("gb18030")),
                (utf16.clone(), None),
            ] {
                let got = pieces(&bytes, size, label).unwrap();
                assert_eq!(lines_and_fields(&got), want, "{size} bytes, {label:?}");
            }
        }
    }

    #[test]
    fn bytes_that_do_not_decode_are_named_by_line_whatever_the_reads() {
        let mut broken = b"a\n1\n2\n".to_vec();
        broken.push(0xFF);
        broken.extend_from_slice(b"\n4\n");
        for size in 1..12 {
            let e = pieces(&broken, size, Some("gbk")).unwrap_err();
            assert!(e.contains("line 4") && e.contains("GBK"), "{size}: {e}");
        }
        let (gbk, _, _) = encoding_rs::GBK.encode("code,街道\n1,茶滘\n");
        for size in [3, 1 << 20] {
            let e = pieces(&gbk, size, None).unwrap_err();
            assert!(
                e.contains("line 1") && e.contains("encoding = \"gbk\""),
                "{e}"
            );
        }
        assert_eq!(
            pieces(b"a,\"b\nc\n", 2, None).unwrap_err(),
            "line 1: a quoted field is not closed (a `\"` is missing)"
        );
    }
}
