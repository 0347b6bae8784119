//! From a declaration to runs: uniform draws in [0, 1) — pseudo-random or quasi-random — mapped
//! onto the declared inputs, as a plain list of runs (an uncertainty analysis) or a Saltelli
//! design (a sensitivity analysis).
//!
//! - **Pseudo-random** (`sampling = "uniform"`): run `r` draws from its own ChaCha8 stream
//!   (seeded by the seed, stream `r`), so a run's draws do not depend on how many runs there
//!   are or which thread evaluates it.
//! - **Quasi-random** (`sampling = "sobol"`, the default): the points of a Sobol sequence
//!   (Joe–Kuo direction numbers) shifted modulo 1 by one uniform offset per dimension drawn
//!   from the seed (a Cranley–Patterson rotation), so different seeds give different, equally
//!   even designs. Sobol points fill the space of choices evenly, so rank intervals and
//!   sensitivity indices settle with fewer runs than with independent draws (the error falls
//!   roughly like 1/N instead of 1/√N); SALib samples this way too.
//!
//! A uniform `u` becomes: a weight `w·(1 + (2u − 1)·noise)`; the `⌊u·k⌋`-th of `k`
//! alternatives; for an exclusion of `m` indicators, none (`⌊u·(m+1)⌋ = 0`) or the listed one.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::{Block, Plan, RunSpec};
use crate::framework::Framework;
use crate::framework::overrides::{Overrides, SetParam};
use crate::framework::uncertainty::{Input, InputKind, Sampling, Uncertainty};

/// A uniform number in [0, 1) from 53 random bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `rows` points of `dims` uniforms each (row-major), drawn as `sampling` says from `seed`.
pub fn uniforms(sampling: Sampling, seed: u64, rows: usize, dims: usize) -> Vec<Vec<f64>> {
    match sampling {
        Sampling::Uniform => (0..rows)
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(r as u64);
                (0..dims).map(|_| unit(&mut rng)).collect()
            })
            .collect(),
        Sampling::Sobol => {
            if dims == 0 {
                return vec![Vec::new(); rows];
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(u64::MAX);
            let shift: Vec<f64> = (0..dims).map(|_| unit(&mut rng)).collect();
            let params = sobol::params::JoeKuoD6::standard();
            sobol::Sobol::<f64>::new(dims, &params)
                .take(rows)
                .map(|p| p.iter().zip(&shift).map(|(x, s)| (x + s).fract()).collect())
                .collect()
        }
    }
}

/// Most dimensions a Sobol design can have (the Joe–Kuo table's size).
pub const MAX_SOBOL_DIMS: usize = 1000;

/// The `⌊u·k⌋`-th of `k` choices.
fn choose(u: f64, k: usize) -> usize {
    ((u * k as f64) as usize).min(k.saturating_sub(1))
}

/// Adds what `input` does with its draws `u` (one per [`Input::dims`]) to `o`.
fn apply(fw: &Framework, input: &Input, u: &[f64], o: &mut Overrides) {
    match &input.kind {
        InputKind::Weights(ws) => {
            for (w, &u) in ws.iter().zip(u) {
                let node = &fw.nodes[w.node];
                o.weights.push((
                    node.id.clone(),
                    node.weight * (1.0 + (2.0 * u - 1.0) * w.noise),
                ));
            }
        }
        InputKind::Method { kind, alternatives } => {
            let a = &alternatives[choose(u[0], alternatives.len())];
            o.methods.push((*kind, a.clone()));
        }
        InputKind::Set { param, values } => o.sets.push(SetParam {
            value: values[choose(u[0], values.len())].clone(),
            ..param.clone()
        }),
        InputKind::Exclude(ids) => {
            let k = choose(u[0], ids.len() + 1);
            if k > 0 {
                o.exclude.push(ids[k - 1].clone());
            }
        }
    }
}

/// The overrides of one run whose draws are `u` (all inputs' draws, in input order).
fn overrides(fw: &Framework, unc: &Uncertainty, u: &[f64]) -> Overrides {
    let mut o = Overrides::default();
    let mut at = 0;
    for input in &unc.inputs {
        apply(fw, input, &u[at..at + input.dims()], &mut o);
        at += input.dims();
    }
    o
}

fn plan(unc: &Uncertainty, runs: Vec<RunSpec>, saltelli: Option<usize>) -> Plan {
    Plan {
        runs,
        inputs: unc.inputs.iter().map(Input::name).collect(),
        saltelli,
        sampling: Some(unc.sampling),
        seed: unc.seed,
        bootstrap: unc.bootstrap,
    }
}

/// An uncertainty analysis: `runs` runs with every input drawn.
pub fn plain(fw: &Framework, unc: &Uncertainty, runs: usize) -> Plan {
    let u = uniforms(unc.sampling, unc.seed, runs, unc.dims());
    let specs = u
        .iter()
        .enumerate()
        .map(|(r, u)| RunSpec {
            run: r + 1,
            block: None,
            overrides: overrides(fw, unc, u),
        })
        .collect();
    plan(unc, specs, None)
}

/// A Saltelli design of base size `n`: runs A (n), B (n), then AB_i (n each) for every input
/// i in order, where AB_i is A with input i's draws taken from B; `n·(d + 2)` runs in all.
/// The draws are `2·dims` uniforms per row: A's first, B's second.
pub fn saltelli(fw: &Framework, unc: &Uncertainty, n: usize) -> Plan {
    let dims = unc.dims();
    let u = uniforms(unc.sampling, unc.seed, n, 2 * dims);
    let mut specs = Vec::with_capacity(n * (unc.inputs.len() + 2));
    let mut push = |block: Block, draws: &[f64]| {
        specs.push(RunSpec {
            run: specs.len() + 1,
            block: Some(block),
            overrides: overrides(fw, unc, draws),
        });
    };
    for row in &u {
        push(Block::A, &row[..dims]);
    }
    for row in &u {
        push(Block::B, &row[dims..]);
    }
    let mut at = 0;
    for input in &unc.inputs {
        let span = at..at + input.dims();
        for row in &u {
            let mut ab = row[..dims].to_vec();
            ab[span.clone()].copy_from_slice(&row[dims + span.start..dims + span.end]);
            push(Block::AB(input.name()), &ab);
        }
        at = span.end;
    }
    plan(unc, specs, Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_in_the_unit_interval_and_reproducible() {
        for s in [Sampling::Uniform, Sampling::Sobol] {
            let a = uniforms(s, 7, 256, 3);
            assert_eq!(a, uniforms(s, 7, 256, 3));
            assert_ne!(a, uniforms(s, 8, 256, 3));
            for d in 0..3 {
                let col: Vec<f64> = a.iter().map(|r| r[d]).collect();
                assert!(col.iter().all(|&x| (0.0..1.0).contains(&x)));
                let mean = col.iter().sum::<f64>() / col.len() as f64;
                assert!((mean - 0.5).abs() < 0.06, "{s:?} dim {d}: mean {mean}");
                // Each quarter of [0, 1) holds about a quarter of the points.
                for q in 0..4 {
                    let k = col.iter().filter(|&&x| (x * 4.0) as usize == q).count();
                    assert!((40..=88).contains(&k), "{s:?} dim {d} quarter {q}: {k}");
                }
            }
        }
        // A Sobol design is exactly stratified: 256 points put 64 in every quarter.
        let a = uniforms(Sampling::Sobol, 1, 256, 2);
        for q in 0..4 {
            assert_eq!(a.iter().filter(|r| (r[1] * 4.0) as usize == q).count(), 64);
        }
    }

    #[test]
    fn a_pseudo_random_run_does_not_depend_on_the_number_of_runs() {
        let few = uniforms(Sampling::Uniform, 3, 5, 4);
        let many = uniforms(Sampling::Uniform, 3, 50, 4);
        assert_eq!(few[..], many[..5]);
    }

    #[test]
    fn choices_split_the_unit_interval_evenly() {
        assert_eq!(choose(0.0, 3), 0);
        assert_eq!(choose(0.34, 3), 1);
        assert_eq!(choose(0.999_999, 3), 2);
        assert_eq!(choose(0.5, 1), 0);
    }
}
