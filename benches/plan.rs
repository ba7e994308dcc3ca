//! Offline planning cost: load + validate + build + invariant check of each example
//! profile, and rendering. `cargo bench --bench plan`.

use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use unionctl::plan::render;
use unionctl::profile;

fn bench(c: &mut Criterion) {
    for name in ["aws-byoc", "gcp-byoc", "azure-byoc", "aws-self-managed"] {
        let bytes = std::fs::read(format!("profiles/{name}.yaml")).unwrap();
        c.bench_function(&format!("load+plan {name}"), |b| {
            b.iter(|| {
                let loaded = profile::load_bytes(black_box(&bytes), Path::new("p.yaml")).unwrap();
                unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap()
            })
        });
    }
    let bytes = std::fs::read("profiles/aws-byoc.yaml").unwrap();
    let loaded = profile::load_bytes(&bytes, Path::new("p.yaml")).unwrap();
    let p = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    c.bench_function("render table aws-byoc", |b| {
        b.iter(|| render::table(black_box(&p)))
    });
    c.bench_function("render json aws-byoc", |b| {
        b.iter(|| render::json(black_box(&p)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
