//! A panel's indicator values kept in a temporary file ([`Spill`]), for a run that scores one
//! period at a time from rows that interleave the periods (a table sorted by unit, where every
//! period has rows up to the last ones): the rows are bound into the file as they come, and the
//! run reads back one period at a time, so that it holds a few periods' values, not the
//! panel's. The file lives in the system's temporary directory (`TMPDIR`), is removed when the
//! run ends, and the system's page cache keeps as much of it in memory as it can spare.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use ndarray::Array2;

use crate::error::Error;

/// Values waiting to be written, at most (a few megabytes: a write per run of units).
const BUFFER_VALUES: usize = 1 << 20;

/// Periods × units × indicators values in a temporary file, `[[period, unit, indicator]]`
/// in that order, a row of a unit and period placed once ([`Spill::row`]), missing values NaN.
pub struct Spill {
    file: tempfile::NamedTempFile,
    /// Periods, units, indicators.
    dims: (usize, usize, usize),
    /// The rows waiting to be written: their (period, unit), and their values one row after
    /// another.
    keys: Vec<(u32, u32)>,
    values: Vec<f64>,
    /// Per period and unit (`p * units + u`): whether its row was placed.
    placed: Vec<bool>,
}

impl Spill {
    /// An empty panel of `periods` × `units` × `indicators` values in a new temporary file.
    pub fn new(periods: usize, units: usize, indicators: usize) -> Result<Self, Error> {
        let dir = std::env::temp_dir();
        // Named as the data stage's scratch directory is (`kapok-…`), so that a file left by a
        // run that was killed is known for what it is.
        let file = tempfile::Builder::new()
            .prefix("kapok-panel-")
            .tempfile()
            .map_err(|e| Error::io(&dir, e))?;
        let bytes = (periods * units * indicators * size_of::<f64>()) as u64;
        let spill = Self {
            file,
            dims: (periods, units, indicators),
            keys: Vec::new(),
            values: Vec::new(),
            placed: vec![false; periods * units],
        };
        spill
            .file
            .as_file()
            .set_len(bytes)
            .map_err(|e| spill.error(e))?;
        Ok(spill)
    }

    /// Periods, units and indicators.
    pub fn dims(&self) -> (usize, usize, usize) {
        self.dims
    }

    /// The row of unit `u` in period `p`, all NaN, to be filled: written to the file with the
    /// rows before it once enough wait.
    pub fn row(&mut self, p: usize, u: usize) -> Result<&mut [f64], Error> {
        let nj = self.dims.2;
        if self.values.len() + nj > BUFFER_VALUES.max(nj) {
            self.flush()?;
        }
        self.keys.push((p as u32, u as u32));
        self.placed[p * self.dims.1 + u] = true;
        let start = self.values.len();
        self.values.resize(start + nj, f64::NAN);
        Ok(&mut self.values[start..])
    }

    /// Writes the rows waiting, a write per run of consecutive units of a period.
    fn flush(&mut self) -> Result<(), Error> {
        let (_, nu, nj) = self.dims;
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_unstable_by_key(|&k| self.keys[k]);
        let mut bytes = Vec::with_capacity(self.values.len() * size_of::<f64>());
        let mut k = 0;
        while k < order.len() {
            let (p, u) = self.keys[order[k]];
            bytes.clear();
            let mut next = k;
            while next < order.len() && self.keys[order[next]] == (p, u + (next - k) as u32) {
                let row = order[next] * nj;
                for v in &self.values[row..row + nj] {
                    bytes.extend_from_slice(&v.to_ne_bytes());
                }
                next += 1;
            }
            let offset = ((p as usize * nu + u as usize) * nj * size_of::<f64>()) as u64;
            at(self.file.as_file(), offset)
                .and_then(|mut f| f.write_all(&bytes))
                .map_err(|e| self.error(e))?;
            k = next;
        }
        self.keys.clear();
        self.values.clear();
        Ok(())
    }

    /// Writes every row still waiting: the values are then all in the file.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.flush()?;
        self.values.shrink_to_fit();
        self.keys.shrink_to_fit();
        Ok(())
    }

    /// Period `p`'s values `[[unit, indicator]]`, read back from the file (after
    /// [`Spill::finish`]): NaN for a unit whose row was not placed.
    pub fn period(&self, p: usize) -> Result<Array2<f64>, Error> {
        let (_, nu, nj) = self.dims;
        let mut bytes = vec![0u8; nu * nj * size_of::<f64>()];
        at(self.file.as_file(), (p * bytes.len()) as u64)
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| self.error(e))?;
        let mut values: Vec<f64> = bytes
            .chunks_exact(size_of::<f64>())
            .map(|b| f64::from_ne_bytes(b.try_into().expect("eight bytes")))
            .collect();
        drop(bytes);
        let placed = &self.placed[p * nu..(p + 1) * nu];
        for (row, _) in values
            .chunks_mut(nj.max(1))
            .zip(placed)
            .filter(|(_, p)| !**p)
        {
            row.fill(f64::NAN);
        }
        Ok(Array2::from_shape_vec((nu, nj), values).expect("a period's values"))
    }

    /// The error of the file.
    fn error(&self, e: std::io::Error) -> Error {
        Error::io(self.path(), e)
    }

    /// The temporary file's path.
    fn path(&self) -> &Path {
        self.file.path()
    }
}

/// `file` positioned at `offset`, for the next read or write.
fn at(file: &File, offset: u64) -> std::io::Result<&File> {
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_placed_in_any_order_are_read_back_by_period() {
        // 3 periods × 5 units × 2 indicators; rows in an order that writes runs of units and
        // single rows, over several flushes (a tiny buffer by hand: flush every few rows).
        let (np, nu, nj) = (3, 5, 2);
        let mut s = Spill::new(np, nu, nj).unwrap();
        let value = |p: usize, u: usize, j: usize| (p * 100 + u * 10 + j) as f64;
        let mut rows: Vec<(usize, usize)> = Vec::new();
        for u in [4, 0, 1, 2] {
            for p in 0..np {
                // Unit 2 has no row in period 1; unit 3 none at all.
                if (p, u) != (1, 2) {
                    rows.push((p, u));
                }
            }
        }
        for (i, &(p, u)) in rows.iter().enumerate() {
            let row = s.row(p, u).unwrap();
            assert!(row.iter().all(|v| v.is_nan()));
            row[0] = value(p, u, 0);
            // A missing value stays NaN.
            if (p + u) % 3 != 0 {
                row[1] = value(p, u, 1);
            }
            if i % 4 == 3 {
                s.flush().unwrap();
            }
        }
        s.finish().unwrap();
        for p in 0..np {
            let got = s.period(p).unwrap();
            assert_eq!(got.dim(), (nu, nj));
            for u in 0..nu {
                for j in 0..nj {
                    let want = if u == 3 || (p, u) == (1, 2) || (j == 1 && (p + u) % 3 == 0) {
                        f64::NAN
                    } else {
                        value(p, u, j)
                    };
                    assert_eq!(got[[u, j]].to_bits(), want.to_bits(), "{p} {u} {j}");
                }
            }
        }
        // Named as kapok's, and removed with the value.
        let path = s.path().to_path_buf();
        assert!(path.exists());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("kapok-panel-"), "{name}");
        drop(s);
        assert!(!path.exists());
    }
}
