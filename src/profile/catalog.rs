//! Facts about each cloud that validation checks against: regions, the supported
//! Kubernetes window, instance types and which carry GPUs. Kept in one table per cloud so
//! that a new region, version or instance family is a one-line change.

use super::schema::Provider;

/// Supported Kubernetes minor versions, inclusive (1.N). The three managed services all
/// support this window as of this release.
pub const KUBERNETES_MINOR_MIN: u32 = 31;
pub const KUBERNETES_MINOR_MAX: u32 = 34;

pub const AWS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "sa-east-1",
    "mx-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "ap-south-1",
    "ap-south-2",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
];

pub const GCP_REGIONS: &[&str] = &[
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-west10",
    "europe-west12",
    "europe-north1",
    "europe-central2",
    "europe-southwest1",
    "me-west1",
    "me-central1",
    "me-central2",
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
];

pub const AZURE_REGIONS: &[&str] = &[
    "eastus",
    "eastus2",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "westus",
    "westus2",
    "westus3",
    "canadacentral",
    "canadaeast",
    "brazilsouth",
    "northeurope",
    "westeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "germanywestcentral",
    "norwayeast",
    "swedencentral",
    "switzerlandnorth",
    "polandcentral",
    "italynorth",
    "spaincentral",
    "uaenorth",
    "qatarcentral",
    "israelcentral",
    "southafricanorth",
    "centralindia",
    "southindia",
    "eastasia",
    "southeastasia",
    "japaneast",
    "japanwest",
    "koreacentral",
    "australiaeast",
    "australiasoutheast",
];

pub fn regions(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Aws => AWS_REGIONS,
        Provider::Gcp => GCP_REGIONS,
        Provider::Azure => AZURE_REGIONS,
    }
}

/// Zones of a region as the cloud names them. Azure zones are numbers; AWS and GCP append
/// a letter.
pub fn zone_names(provider: Provider, region: &str, count: u32) -> Vec<String> {
    (0..count)
        .map(|i| match provider {
            Provider::Aws => format!("{region}{}", (b'a' + i as u8) as char),
            Provider::Gcp => format!("{region}-{}", (b'a' + i as u8) as char),
            Provider::Azure => (i + 1).to_string(),
        })
        .collect()
}

/// Largest zone count every supported region has.
pub const MAX_ZONES: u32 = 3;

/// Whether an instance type is spelled the way its cloud spells them.
pub fn instance_type_shape_ok(provider: Provider, instance_type: &str) -> bool {
    let lower_alnum = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    match provider {
        Provider::Aws => match instance_type.split_once('.') {
            Some((family, size)) => lower_alnum(family) && lower_alnum(size),
            None => false,
        },
        Provider::Gcp => instance_type.contains('-') && lower_alnum(instance_type),
        // `-` for the constrained-vCPU sizes: `Standard_E16-4s_v5`.
        Provider::Azure => instance_type.strip_prefix("Standard_").is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }),
    }
}

pub fn example_instance_type(provider: Provider) -> &'static str {
    match provider {
        Provider::Aws => "m6i.xlarge",
        Provider::Gcp => "n2-standard-4",
        Provider::Azure => "Standard_D4s_v5",
    }
}

// ---------------------------------------------------------------------------------------
// Instance types
//
// One table per cloud, each row a family (AWS), a series and class (GCP) or a size series
// (Azure) with the sizes it offers. An instance type the table does not know is a likely
// typo only when it is one edit away from one it knows, and that edit is not a newer
// generation number (`m9i` next to `m8i`, `_v7` next to `_v6`): new types appear faster
// than any release, so validation warns about those and lets the cloud decide at apply.

/// What a node pool's `gpu: true` cares about in an instance type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gpu {
    /// No GPU: CPUs only, or accelerators that are not GPUs (Inferentia, Trainium, TPUs, FPGAs).
    None,
    /// NVIDIA GPUs: what GPU pools are built for (NVIDIA node images, `nvidia.com/gpu` taint).
    Nvidia,
    /// GPUs of another maker (AMD): NVIDIA's drivers and device plugin do not serve them.
    Other,
}

/// EC2 families whose instances carry NVIDIA GPUs (DescribeInstanceTypes `GpuInfo`).
pub const AWS_NVIDIA_FAMILIES: &[&str] = &[
    "cg1",
    "g2",
    "g3",
    "g3s",
    "g4dn",
    "g5",
    "g5g",
    "g6",
    "g6e",
    "g6f",
    "g7",
    "g7e",
    "gr6",
    "gr6f",
    "p2",
    "p3",
    "p3dn",
    "p4d",
    "p4de",
    "p5",
    "p5e",
    "p5en",
    "p6-b200",
    "p6-b300",
    "p6e-gb200",
];

/// EC2 families with AMD GPUs (Radeon Pro V520).
pub const AWS_AMD_FAMILIES: &[&str] = &["g4ad"];

/// GCE accelerator-optimized series: NVIDIA GPUs attached to every machine type.
pub const GCP_GPU_SERIES: &[&str] = &["a2", "a3", "a4", "a4x", "g2", "g4"];

/// GCE series that take custom machine types (`n2-custom-4-16384`; N1's are `custom-…`).
pub const GCP_CUSTOM_SERIES: &[&str] = &["e2", "n2", "n2d", "n4", "n4a", "n4d"];

/// Azure N-series with AMD GPUs (Instinct MI25, MI300X; Radeon Pro V620, V710). The other
/// NC, ND and NV series carry NVIDIA GPUs; NP (FPGAs) and the rest carry none.
pub const AZURE_AMD_SERIES: &[&str] = &[
    "NV#as_v4",
    "ND#is_MI300X_v5",
    "ND#isr_MI300X_v5",
    "NG#ads_V620_v1",
    "NG#adms_V620_v1",
    "NV#ads_V710_v5",
    "NV#adms_V710_v5",
];

/// The sizes an EC2 family offers, if the family is known.
fn aws_sizes(family: &str) -> Option<impl Iterator<Item = &'static str>> {
    AWS_FAMILIES
        .iter()
        .find(|(f, _)| *f == family)
        .map(|&(_, sizes)| sizes.split(' '))
}

/// Every GCE machine type of the table (custom machine types aside).
fn gcp_names() -> impl Iterator<Item = String> {
    GCP_MACHINE_TYPES
        .iter()
        .flat_map(|&(class, counts, suffix)| {
            counts
                .split(' ')
                .map(move |n| format!("{class}-{n}{suffix}"))
        })
        .chain(GCP_OTHER_MACHINE_TYPES.iter().map(|n| n.to_string()))
}

/// Every Azure size of the table, without `Standard_`, with the series it belongs to.
fn azure_sizes() -> impl Iterator<Item = (String, &'static str)> {
    AZURE_SIZES.iter().flat_map(|&(series, sizes)| {
        sizes
            .split(' ')
            .map(move |n| (series.replacen('#', n, 1), series))
    })
}

/// `custom-CPUS-MEMORY_MB[-ext]` (N1) or `SERIES-custom-CPUS-MEMORY_MB[-ext]`: checked for
/// shape only, the cloud checks the CPU and memory rules.
fn gcp_custom(machine_type: &str) -> bool {
    let rest = match machine_type.split_once("-custom-") {
        Some((series, rest)) if GCP_CUSTOM_SERIES.contains(&series) => rest,
        Some(_) => return false,
        None => match machine_type.strip_prefix("custom-") {
            Some(rest) => rest,
            None => return false,
        },
    };
    let rest = rest.strip_suffix("-ext").unwrap_or(rest);
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let shared_core = machine_type.starts_with("e2-")
        && ["micro", "small", "medium"]
            .iter()
            .any(|s| rest.starts_with(&format!("{s}-")));
    rest.split_once('-')
        .is_some_and(|(cpus, memory)| (number(cpus) || shared_core) && number(memory))
}

/// Whether the catalog knows this instance type (Azure sizes in any letter case, as Azure
/// reads them).
pub fn known_instance_type(provider: Provider, instance_type: &str) -> bool {
    match provider {
        Provider::Aws => instance_type.split_once('.').is_some_and(|(family, size)| {
            aws_sizes(family).is_some_and(|mut sizes| sizes.any(|s| s == size))
        }),
        Provider::Gcp => gcp_names().any(|n| n == instance_type) || gcp_custom(instance_type),
        Provider::Azure => instance_type
            .strip_prefix("Standard_")
            .is_some_and(|body| azure_sizes().any(|(size, _)| size.eq_ignore_ascii_case(body))),
    }
}

/// The known instance type an unknown one is likely a typo of: one edit away (a letter
/// added, dropped, changed, or two swapped), and not a newer generation of it. On AWS, a
/// known family with an unknown size gets the family's nearest size; an unknown family, the
/// nearest family that offers the same size.
pub fn instance_type_suggestion(provider: Provider, instance_type: &str) -> Option<String> {
    if known_instance_type(provider, instance_type) {
        return None;
    }
    match provider {
        Provider::Aws => {
            let (family, size) = instance_type.split_once('.')?;
            if let Some(sizes) = aws_sizes(family) {
                return likely_typo(size, sizes, |_, _| false).map(|s| format!("{family}.{s}"));
            }
            let offering = AWS_FAMILIES
                .iter()
                .filter(|(_, sizes)| sizes.split(' ').any(|s| s == size))
                .map(|(f, _)| *f);
            // Every digit of a family name is its generation (`m6i`, `p4de`).
            likely_typo(family, offering, |typed, known| {
                digit_changed(typed, known).is_some()
            })
            .map(|f| format!("{f}.{size}"))
        }
        // The series is the generation: `n4-standard-8` is not a typo of `n2-standard-8`.
        Provider::Gcp => likely_typo(instance_type, gcp_names(), |typed, known| {
            digit_changed(typed, known)
                .is_some_and(|i| typed.find('-').is_some_and(|dash| i < dash))
        }),
        // `_vN` is the generation: `Standard_D4s_v7` is not a typo of `Standard_D4s_v6`.
        Provider::Azure => {
            let body = instance_type.strip_prefix("Standard_")?;
            let version_changed = |typed: &str, known: &str| {
                let version_at = typed
                    .rfind("_v")
                    .filter(|&i| typed[i + 2..].bytes().all(|b| b.is_ascii_digit()));
                digit_changed(typed, known).is_some_and(|i| version_at.is_some_and(|v| i > v))
            };
            likely_typo(body, azure_sizes().map(|(size, _)| size), version_changed)
                .map(|s| format!("Standard_{s}"))
        }
    }
}

/// What validation makes of an instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceTypeCheck {
    Known,
    /// Unknown, one edit away from this known type.
    Typo(String),
    /// Unknown and far from every known type: perhaps newer than this release.
    Unknown,
}

/// Known; or a likely typo of a known type (validation refuses it); or unknown (validation
/// warns, and the cloud decides at apply).
pub fn check_instance_type(provider: Provider, instance_type: &str) -> InstanceTypeCheck {
    if known_instance_type(provider, instance_type) {
        InstanceTypeCheck::Known
    } else {
        instance_type_suggestion(provider, instance_type)
            .map_or(InstanceTypeCheck::Unknown, InstanceTypeCheck::Typo)
    }
}

/// The GPUs an instance type carries. Known types answer from the catalog; unknown ones by
/// their cloud's naming (AWS `g`, `gr` and `p` families, GCE `a` and `g` series, Azure NC,
/// ND and NV sizes), so that a type newer than the catalog is still read the same way.
pub fn gpu(provider: Provider, instance_type: &str) -> Gpu {
    let nvidia = |yes: bool| if yes { Gpu::Nvidia } else { Gpu::None };
    match provider {
        Provider::Aws => {
            let family = instance_type.split('.').next().unwrap_or("");
            if AWS_AMD_FAMILIES.contains(&family) {
                Gpu::Other
            } else if aws_sizes(family).is_some() {
                nvidia(AWS_NVIDIA_FAMILIES.contains(&family))
            } else {
                let rest = family
                    .strip_prefix("gr")
                    .or_else(|| family.strip_prefix(['g', 'p']))
                    .unwrap_or("");
                nvidia(rest.starts_with(|c: char| c.is_ascii_digit()))
            }
        }
        Provider::Gcp => {
            let series = instance_type.split('-').next().unwrap_or("");
            let known = GCP_MACHINE_TYPES
                .iter()
                .any(|(class, _, _)| class.split('-').next() == Some(series))
                || GCP_OTHER_MACHINE_TYPES
                    .iter()
                    .any(|n| n.split('-').next() == Some(series));
            if known {
                nvidia(GCP_GPU_SERIES.contains(&series))
            } else {
                nvidia(
                    series.starts_with(['a', 'g'])
                        && series[1..].starts_with(|c: char| c.is_ascii_digit()),
                )
            }
        }
        Provider::Azure => {
            let body = instance_type
                .strip_prefix("Standard_")
                .unwrap_or("")
                .to_ascii_uppercase();
            let amd = match azure_sizes().find(|(size, _)| size.eq_ignore_ascii_case(&body)) {
                Some((_, series)) => AZURE_AMD_SERIES.contains(&series),
                None => body.split('_').any(|part| {
                    part.starts_with("MI") && part[2..].starts_with(|c: char| c.is_ascii_digit())
                }),
            };
            if amd {
                Gpu::Other
            } else {
                nvidia(["NC", "ND", "NV"].iter().any(|p| body.starts_with(p)))
            }
        }
    }
}

/// Whether an instance type carries NVIDIA GPUs.
pub fn is_gpu_instance(provider: Provider, instance_type: &str) -> bool {
    gpu(provider, instance_type) == Gpu::Nvidia
}

use super::diagnostic::edit_distance;

/// Where `typed` differs from `known` by one digit put for another, and nowhere else.
fn digit_changed(typed: &str, known: &str) -> Option<usize> {
    if typed.len() != known.len() {
        return None;
    }
    let mut diffs = typed
        .bytes()
        .zip(known.bytes())
        .enumerate()
        .filter(|(_, (a, b))| !a.eq_ignore_ascii_case(b));
    match (diffs.next(), diffs.next()) {
        (Some((i, (a, b))), None) if a.is_ascii_digit() && b.is_ascii_digit() => Some(i),
        _ => None,
    }
}

/// How far apart the numbers of two names are: `3xlarge` is nearer `2xlarge` than `32xlarge`,
/// and far from `xlarge`, which has no number.
fn number_gap(a: &str, b: &str) -> u64 {
    let numbers = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let (a, b) = (numbers(a), numbers(b));
    if a.len() != b.len() {
        return u64::MAX;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(y))
        .fold(0, u64::saturating_add)
}

/// The candidate nearest to `typed` (fewest edits, then the nearest numbers, then table
/// order) when it is one edit away and no candidate that near differs only by a newer (or
/// older) generation, which `new_generation(typed, candidate)` tells.
fn likely_typo<S: AsRef<str>>(
    typed: &str,
    candidates: impl IntoIterator<Item = S>,
    new_generation: impl Fn(&str, &str) -> bool,
) -> Option<S> {
    let mut best: Option<((usize, u64), S)> = None;
    let mut generation_at_best_distance = false;
    for candidate in candidates {
        let known = candidate.as_ref();
        let distance = edit_distance(typed, known);
        let key = (distance, number_gap(typed, known));
        let best_distance = best.as_ref().map_or(usize::MAX, |(k, _)| k.0);
        if distance < best_distance {
            generation_at_best_distance = false;
        }
        if distance <= best_distance && new_generation(typed, known) {
            generation_at_best_distance = true;
        }
        if best.as_ref().is_none_or(|(k, _)| key < *k) {
            best = Some((key, candidate));
        }
    }
    best.filter(|((distance, _), _)| *distance <= 1 && !generation_at_best_distance)
        .map(|(_, c)| c)
}

/// EC2 instance families and the sizes each offers (`FAMILY.SIZE`): the `InstanceType` enum
/// of the EC2 API model (botocore 1.44.18, `ec2/2016-11-15`), the list behind
/// <https://aws.amazon.com/ec2/instance-types/>, less the Mac (macOS only) and High Memory
/// (`u-*`, `u7i*`) families that never run Kubernetes nodes.
pub const AWS_FAMILIES: &[(&str, &str)] = &[
    ("a1", "medium large xlarge 2xlarge 4xlarge metal"),
    ("c1", "medium xlarge"),
    ("c3", "large xlarge 2xlarge 4xlarge 8xlarge"),
    ("c4", "large xlarge 2xlarge 4xlarge 8xlarge"),
    ("c5", "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal"),
    ("c5a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("c5ad", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("c5d", "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal"),
    ("c5n", "large xlarge 2xlarge 4xlarge 9xlarge 18xlarge metal"),
    ("c6a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal"),
    ("c6g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("c6gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("c6gn", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("c6i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("c6id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("c6in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("c7a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl"),
    ("c7g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("c7gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("c7gn", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("c7i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c7i-flex", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("c8a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c8g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c8gb", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c8gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c8gn", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("c8i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("c8i-flex", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("c8ib", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("c8id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("c8in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("c8ine", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge"),
    ("c9g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-48xl"),
    ("c9gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-48xl"),
    ("cc1", "4xlarge"),
    ("cc2", "8xlarge"),
    ("cg1", "4xlarge"),
    ("cr1", "8xlarge"),
    ("d2", "xlarge 2xlarge 4xlarge 8xlarge"),
    ("d3", "xlarge 2xlarge 4xlarge 8xlarge"),
    ("d3en", "xlarge 2xlarge 4xlarge 6xlarge 8xlarge 12xlarge"),
    ("dl1", "24xlarge"),
    ("dl2q", "24xlarge"),
    ("f1", "2xlarge 4xlarge 16xlarge"),
    ("f2", "6xlarge 12xlarge 48xlarge"),
    ("g2", "2xlarge 8xlarge"),
    ("g3", "4xlarge 8xlarge 16xlarge"),
    ("g3s", "xlarge"),
    ("g4ad", "xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    ("g4dn", "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("g5", "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    ("g5g", "xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal"),
    ("g6", "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    ("g6e", "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    ("g6f", "large xlarge 2xlarge 4xlarge"),
    ("g7", "2xlarge 4xlarge 8xlarge 12xlarge 24xlarge 48xlarge"),
    ("g7e", "2xlarge 4xlarge 8xlarge 12xlarge 24xlarge 48xlarge"),
    ("gr6", "4xlarge 8xlarge"),
    ("gr6f", "4xlarge"),
    ("h1", "2xlarge 4xlarge 8xlarge 16xlarge"),
    ("hi1", "4xlarge"),
    ("hpc6a", "48xlarge"),
    ("hpc6id", "32xlarge"),
    ("hpc7a", "12xlarge 24xlarge 48xlarge 96xlarge"),
    ("hpc7g", "4xlarge 8xlarge 16xlarge"),
    ("hpc8a", "96xlarge"),
    ("hs1", "8xlarge"),
    ("i2", "xlarge 2xlarge 4xlarge 8xlarge"),
    ("i3", "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal"),
    ("i3en", "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal"),
    ("i4g", "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    ("i4i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("i7i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("i7ie", "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("i8g", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("i8ge", "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("im4gn", "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    ("inf1", "xlarge 2xlarge 6xlarge 24xlarge"),
    ("inf2", "xlarge 8xlarge 24xlarge 48xlarge"),
    ("is4gen", "medium large xlarge 2xlarge 4xlarge 8xlarge"),
    ("m1", "small medium large xlarge"),
    ("m2", "xlarge 2xlarge 4xlarge"),
    ("m3", "medium large xlarge 2xlarge"),
    ("m4", "large xlarge 2xlarge 4xlarge 10xlarge 16xlarge"),
    ("m5", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("m5a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("m5ad", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("m5d", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("m5dn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("m5n", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("m5zn", "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal"),
    ("m6a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal"),
    ("m6g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("m6gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("m6i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("m6id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("m6idn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("m6in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("m7a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl"),
    ("m7g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("m7gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("m7i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m7i-flex", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("m8a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m8azn", "medium large xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal-12xl metal-24xl"),
    ("m8g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m8gb", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m8gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m8gn", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m8i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8i-flex", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("m8ib", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8idb", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8idn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("m8ine", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge"),
    ("m9g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("m9gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("p2", "xlarge 8xlarge 16xlarge"),
    ("p3", "2xlarge 8xlarge 16xlarge"),
    ("p3dn", "24xlarge"),
    ("p4d", "24xlarge"),
    ("p4de", "24xlarge"),
    ("p5", "4xlarge 48xlarge"),
    ("p5e", "48xlarge"),
    ("p5en", "48xlarge"),
    ("p6-b200", "48xlarge"),
    ("p6-b300", "48xlarge"),
    ("p6e-gb200", "36xlarge"),
    ("r3", "large xlarge 2xlarge 4xlarge 8xlarge"),
    ("r4", "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    ("r5", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("r5a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("r5ad", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    ("r5b", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("r5d", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("r5dn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("r5n", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge metal"),
    ("r6a", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal"),
    ("r6g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("r6gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("r6i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("r6id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("r6idn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("r6in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("r7a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl"),
    ("r7g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("r7gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("r7i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r7iz", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 32xlarge metal-16xl metal-32xl"),
    ("r8a", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r8g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r8gb", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r8gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r8gn", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("r8i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r8i-flex", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    ("r8ib", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r8id", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r8idb", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r8idn", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r8in", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"),
    ("r9g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-48xl"),
    ("r9gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-48xl"),
    ("t1", "micro"),
    ("t2", "nano micro small medium large xlarge 2xlarge"),
    ("t3", "nano micro small medium large xlarge 2xlarge"),
    ("t3a", "nano micro small medium large xlarge 2xlarge"),
    ("t4g", "nano micro small medium large xlarge 2xlarge"),
    ("t8i", "nano micro small medium"),
    ("trn1", "2xlarge 32xlarge"),
    ("trn1n", "32xlarge"),
    ("trn2", "3xlarge 48xlarge"),
    ("trn2u", "48xlarge"),
    ("vt1", "3xlarge 6xlarge 24xlarge"),
    ("x1", "16xlarge 32xlarge"),
    ("x1e", "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 32xlarge"),
    ("x2gd", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge metal"),
    ("x2idn", "16xlarge 24xlarge 32xlarge metal"),
    ("x2iedn", "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 24xlarge 32xlarge metal"),
    ("x2iezn", "2xlarge 4xlarge 6xlarge 8xlarge 12xlarge metal"),
    ("x8aedz", "large xlarge 3xlarge 6xlarge 12xlarge 24xlarge metal-12xl metal-24xl"),
    ("x8g", "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"),
    ("x8i", "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 64xlarge 96xlarge metal-48xl metal-96xl"),
    ("z1d", "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal"),
];

/// GCE machine types, `{series-class}-{N}{suffix}`: N is the vCPU count, or the GPU count
/// of accelerator-optimized types (`a3-highgpu-8g`) and the TPU chip count of TPU hosts
/// (`ct5lp-hightpu-4t`). From <https://cloud.google.com/compute/docs/machine-resource>,
/// as listed by GKE's cluster-autoscaler machine-type table and checked against
/// Cyclenerd/google-cloud-pricing-cost-calculator `build/gcp.yml` (August 2026).
pub const GCP_MACHINE_TYPES: &[(&str, &str, &str)] = &[
    ("a2-highgpu", "1 2 4 8", "g"),
    ("a2-megagpu", "16", "g"),
    ("a2-ultragpu", "1 2 4 8", "g"),
    ("a2-ultragpu", "1 2 4 8", "g-nolssd"),
    ("a3-highgpu", "1 2 4 8", "g"),
    ("a3-highgpu", "1 2 4 8", "g-nolssd"),
    ("a3-edgegpu", "8", "g"),
    ("a3-edgegpu", "8", "g-nolssd"),
    ("a3-megagpu", "8", "g"),
    ("a3-megagpu", "8", "g-nolssd"),
    ("a3-ultragpu", "8", "g"),
    ("a3-ultragpu", "8", "g-nolssd"),
    ("a4-highgpu", "8", "g"),
    ("a4-highgpu", "8", "g-nolssd"),
    ("a4x-highgpu", "4", "g"),
    ("a4x-highgpu", "4", "g-nolssd"),
    ("a4x-maxgpu", "4", "g-metal"),
    ("c2-standard", "4 8 16 30 60", ""),
    ("c2d-standard", "2 4 8 16 32 56 112", ""),
    ("c2d-highcpu", "2 4 8 16 32 56 112", ""),
    ("c2d-highmem", "2 4 8 16 32 56 112", ""),
    ("c3-standard", "4 8 22 44 88 176", ""),
    ("c3-standard", "4 8 22 44 88 176", "-lssd"),
    ("c3-highcpu", "4 8 22 44 88 176", ""),
    ("c3-highmem", "4 8 22 44 88 176", ""),
    ("c3-standard", "192", "-metal"),
    ("c3-highcpu", "192", "-metal"),
    ("c3-highmem", "192", "-metal"),
    ("c3d-standard", "4 8 16 30 60 90 180 360", ""),
    ("c3d-standard", "8 16 30 60 90 180 360", "-lssd"),
    ("c3d-highcpu", "4 8 16 30 60 90 180 360", ""),
    ("c3d-highmem", "4 8 16 30 60 90 180 360", ""),
    ("c3d-highmem", "8 16 30 60 90 180 360", "-lssd"),
    ("c4-standard", "2 4 8 16 24 32 48 64 96 144 192 288", ""),
    ("c4-standard", "4 8 16 24 32 48 64 96 144 192 288", "-lssd"),
    ("c4-highcpu", "2 4 8 16 24 32 48 64 96 144 192 288", ""),
    ("c4-highmem", "2 4 8 16 24 32 48 64 96 144 192 288", ""),
    ("c4-highmem", "4 8 16 24 32 48 64 96 144 192 288", "-lssd"),
    ("c4-standard", "288", "-metal"),
    ("c4-highcpu", "288", "-metal"),
    ("c4-highmem", "288", "-metal"),
    ("c4-standard", "288", "-lssd-metal"),
    ("c4-highmem", "288", "-lssd-metal"),
    ("c4a-standard", "1 2 4 8 16 32 36 48 64 72", ""),
    ("c4a-standard", "4 8 16 32 48 64 72", "-lssd"),
    ("c4a-highcpu", "1 2 4 8 16 32 36 48 64 72", ""),
    ("c4a-highcpu", "4 8 16 32 48 64 72", "-lssd"),
    ("c4a-highmem", "1 2 4 8 16 32 36 48 64 72", ""),
    ("c4a-highmem", "4 8 16 32 48 64 72", "-lssd"),
    ("c4a-standard", "96", "-metal"),
    ("c4a-highmem", "96", "-metal"),
    ("c4d-standard", "2 4 8 16 32 48 64 96 192 384", ""),
    ("c4d-standard", "8 16 32 48 64 96 192 384", "-lssd"),
    ("c4d-highcpu", "2 4 8 16 32 48 64 96 192 384", ""),
    ("c4d-highmem", "2 4 8 16 32 48 64 96 192 384", ""),
    ("c4d-highmem", "8 16 32 48 64 96 192 384", "-lssd"),
    ("c4d-standard", "384", "-metal"),
    ("c4d-highcpu", "384", "-metal"),
    ("c4d-highmem", "384", "-metal"),
    ("c4n-standard", "2 4 8 16 24 32 48 96 192", ""),
    ("c4n-standard", "4 8 16 24 32 48 96 192", "-lssd"),
    ("c4n-highcpu", "2 4 8 16 24 32 48 96 192", ""),
    ("c4n-highmem", "2 4 8 16 24 32 48 96 192", ""),
    ("c4n-highmem", "4 8 16 24 32 48 96 192", "-lssd"),
    ("e2-standard", "2 4 8 16 32", ""),
    ("e2-highcpu", "2 4 8 16 32", ""),
    ("e2-highmem", "2 4 8 16", ""),
    ("e4-standard", "2 4 8 16 32", ""),
    ("e4-highcpu", "2 4 8 16 32", ""),
    ("e4-highmem", "2 4 8 16", ""),
    ("e4a-standard", "2 4 8 16 32", ""),
    ("ek-standard", "2 4 8 16 32", ""),
    ("g2-standard", "4 8 12 16 24 32 48 96", ""),
    ("g4-standard", "6 12 24 48 96 192 384", ""),
    ("h3-standard", "88", ""),
    ("h4d-standard", "192", ""),
    ("h4d-highmem", "192", ""),
    ("h4d-highmem", "192", "-lssd"),
    ("m1-ultramem", "40 80 160", ""),
    ("m1-megamem", "96", ""),
    ("m2-ultramem", "208 416", ""),
    ("m2-megamem", "416", ""),
    ("m2-hypermem", "416", ""),
    ("m3-ultramem", "32 64 128", ""),
    ("m3-megamem", "64 128", ""),
    ("m4-ultramem", "56 112 224", ""),
    ("m4-megamem", "28 56 112 224", ""),
    ("m4-hypermem", "16 32 64", ""),
    ("m4n-ultramem", "56 112", ""),
    ("m4n-megamem", "28 56 112", ""),
    ("m4n-hypermem", "16 32 64", ""),
    ("n1-standard", "1 2 4 8 16 32 64 96", ""),
    ("n1-highcpu", "2 4 8 16 32 64 96", ""),
    ("n1-highmem", "2 4 8 16 32 64 96", ""),
    ("n2-standard", "2 4 8 16 32 48 64 80 96 128", ""),
    ("n2-highcpu", "2 4 8 16 32 48 64 80 96 128", ""),
    ("n2-highmem", "2 4 8 16 32 48 64 80 96 128", ""),
    ("n2d-standard", "2 4 8 16 32 48 64 80 96 128 224", ""),
    ("n2d-highcpu", "2 4 8 16 32 48 64 80 96 128 224", ""),
    ("n2d-highmem", "2 4 8 16 32 48 64 80 96", ""),
    ("n4-standard", "2 4 8 16 32 48 64 80", ""),
    ("n4-highcpu", "2 4 8 16 32 48 64 80", ""),
    ("n4-highmem", "2 4 8 16 32 48 64 80", ""),
    ("n4a-standard", "1 2 4 8 16 32 48 64", ""),
    ("n4a-highcpu", "1 2 4 8 16 32 48 64", ""),
    ("n4a-highmem", "1 2 4 8 16 32 48 64", ""),
    ("n4d-standard", "2 4 8 16 32 48 64 80 96", ""),
    ("n4d-highcpu", "2 4 8 16 32 48 64 80 96", ""),
    ("n4d-highmem", "2 4 8 16 32 48 64 80 96", ""),
    ("t2a-standard", "1 2 4 8 16 32 48", ""),
    ("t2d-standard", "1 2 4 8 16 32 48 60", ""),
    ("z3-highmem", "8 14 22 30 36 44 88 176", ""),
    ("z3-highmem", "8 16 22 32 44 88", "-highlssd"),
    ("z3-highmem", "14 22 44 88 176", "-standardlssd"),
    ("z3-highmem", "192", "-highlssd-metal"),
    ("ct5lp-hightpu", "1 4 8", "t"),
    ("ct5l-hightpu", "1 4 8", "t"),
    ("ct5p-hightpu", "4", "t"),
    ("ct6e-standard", "1 4 8", "t"),
    ("ct4p-hightpu", "4", "t"),
];

/// GCE machine types with no count in their name.
pub const GCP_OTHER_MACHINE_TYPES: &[&str] = &[
    "e2-micro",
    "e2-small",
    "e2-medium",
    "e4-medium",
    "f1-micro",
    "g1-small",
];

/// Azure VM size series, `Standard_{series}` with `#` the vCPU count (`16-4`: 16 vCPUs'
/// worth of memory with 4 active, the constrained-vCPU sizes): every size of
/// <https://learn.microsoft.com/azure/virtual-machines/sizes> the Resource SKUs API lists
/// (kubernetes/autoscaler `cluster-autoscaler/cloudprovider/azure/azure_instance_types.go`,
/// generated from it, March 2026), plus the ND GB200 and GB300 v6 sizes.
pub const AZURE_SIZES: &[(&str, &str)] = &[
    ("A#_v2", "1 2 4 8"),
    ("A#m_v2", "2 4 8"),
    ("B#als_v2", "2 4 8 16 32"),
    ("B#as_v2", "2 4 8 16 32"),
    ("B#ats_v2", "2"),
    ("B#ls", "1"),
    ("B#ls_v2", "2 4 8 16 32"),
    ("B#ms", "1 2 4 8 12 16 20"),
    ("B#pls_v2", "2 4 8 16"),
    ("B#ps_v2", "2 4 8 16"),
    ("B#pts_v2", "2"),
    ("B#s", "1 2"),
    ("B#s_v2", "2 4 8 16 32"),
    ("B#ts_v2", "2"),
    ("D#", "1 2 3 4 11 12 13 14"),
    ("D#_v2", "1 2 3 4 5 11 12 13 14 15"),
    ("D#_v2_Promo", "2 3 4 5 11 12 13 14"),
    ("D#_v3", "2 4 8 16 32 48 64"),
    ("D#_v4", "2 4 8 16 32 48 64"),
    ("D#_v5", "2 4 8 16 32 48 64 96"),
    ("D#a_v4", "2 4 8 16 32 48 64 96"),
    ("D#ads_v5", "2 4 8 16 32 48 64 96"),
    ("D#ads_v6", "2 4 8 16 32 48 64 96"),
    ("D#ads_v7", "2 4 8 16 32 48 64 96 128 160"),
    ("D#alds_v6", "2 4 8 16 32 48 64 96"),
    ("D#alds_v7", "2 4 8 16 32 48 64 96 128 160"),
    ("D#als_v6", "2 4 8 16 32 48 64 96"),
    ("D#als_v7", "2 4 8 16 32 48 64 96 128 160"),
    ("D#as_v4", "2 4 8 16 32 48 64 96"),
    ("D#as_v5", "2 4 8 16 32 48 64 96"),
    ("D#as_v6", "2 4 8 16 32 48 64 96"),
    ("D#as_v7", "2 4 8 16 32 48 64 96 128 160"),
    ("D#d_v4", "2 4 8 16 32 48 64"),
    ("D#d_v5", "2 4 8 16 32 48 64 96"),
    ("D#ds_v4", "2 4 8 16 32 48 64"),
    ("D#ds_v5", "2 4 8 16 32 48 64 96"),
    ("D#ds_v6", "2 4 8 16 32 48 64 96 128 192"),
    ("D#lds_v5", "2 4 8 16 32 48 64 96"),
    ("D#lds_v6", "2 4 8 16 32 48 64 96 128"),
    ("D#ls_v5", "2 4 8 16 32 48 64 96"),
    ("D#ls_v6", "2 4 8 16 32 48 64 96 128"),
    ("D#pds_v5", "2 4 8 16 32 48 64"),
    ("D#pds_v6", "2 4 8 16 32 48 64 96"),
    ("D#plds_v5", "2 4 8 16 32 48 64"),
    ("D#plds_v6", "2 4 8 16 32 48 64 96"),
    ("D#pls_v5", "2 4 8 16 32 48 64"),
    ("D#pls_v6", "2 4 8 16 32 48 64 96"),
    ("D#ps_v5", "2 4 8 16 32 48 64"),
    ("D#ps_v6", "2 4 8 16 32 48 64 96"),
    ("D#s_v3", "2 4 8 16 32 48 64"),
    ("D#s_v4", "2 4 8 16 32 48 64"),
    ("D#s_v5", "2 4 8 16 32 48 64 96"),
    ("D#s_v6", "2 4 8 16 32 48 64 96 128 192"),
    ("DC#_v2", "8"),
    ("DC#ads_cc_v5", "4 8 16 32 48 64 96"),
    ("DC#ads_v5", "2 4 8 16 32 48 64 96"),
    ("DC#ads_v6", "2 4 8 16 32 48 64 96"),
    ("DC#as_cc_v5", "4 8 16 32 48 64 96"),
    ("DC#as_v5", "2 4 8 16 32 48 64 96"),
    ("DC#as_v6", "2 4 8 16 32 48 64 96"),
    ("DC#ds_v3", "1 2 4 8 16 24 32 48"),
    ("DC#eds_v5", "2 4 8 16 32 48 64 96"),
    ("DC#eds_v6", "2 4 8 16 32 48 64 96 128"),
    ("DC#es_v5", "2 4 8 16 32 48 64 96"),
    ("DC#es_v6", "2 4 8 16 32 48 64 96 128"),
    ("DC#s_v2", "1 2 4"),
    ("DC#s_v3", "1 2 4 8 16 24 32 48"),
    ("DS#", "1 2 3 4 11 12 13 14"),
    ("DS#_v2", "1 2 3 4 5 11-1 11 12-1 12-2 12 13-2 13-4 13 14-4 14-8 14 15"),
    ("DS#_v2_Promo", "2 3 4 5 11 12 13 14"),
    ("E#_v3", "2 4 8 16 20 32 48 64"),
    ("E#_v4", "2 4 8 16 20 32 48 64"),
    ("E#_v5", "2 4 8 16 20 32 48 64 96"),
    ("E#a_v4", "2 4 8 16 20 32 48 64 96"),
    ("E#ads_v5", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96"),
    ("E#ads_v6", "2 4 8 16 20 32 48 64 96-24 96-48 96"),
    ("E#ads_v7", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96 128-32 128-64 128 160"),
    ("E#as_v4", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96"),
    ("E#as_v5", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96"),
    ("E#as_v6", "2 4 8 16 20 32 48 64 96"),
    ("E#as_v7", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96 128-32 128-64 128 160"),
    ("E#bds_v5", "2 4 8 16 32 48 64 96"),
    ("E#bs_v5", "2 4 8 16 32 48 64 96"),
    ("E#d_v4", "2 4 8 16 20 32 48 64"),
    ("E#d_v5", "2 4 8 16 20 32 48 64 96"),
    ("E#ds_v4", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64"),
    ("E#ds_v5", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96"),
    ("E#ds_v6", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96 128-32 128-64 128"),
    ("E#i_v3", "64"),
    ("E#i_v5", "104"),
    ("E#iads_v5", "112"),
    ("E#ias_v4", "96"),
    ("E#ias_v5", "112"),
    ("E#ibds_v5", "112"),
    ("E#ibs_v5", "112"),
    ("E#id_v5", "104"),
    ("E#ids_v4", "80"),
    ("E#ids_v5", "104"),
    ("E#ids_v6", "192"),
    ("E#is_v3", "64"),
    ("E#is_v4", "80"),
    ("E#is_v5", "104"),
    ("E#is_v6", "192"),
    ("E#pds_v5", "2 4 8 16 20 32"),
    ("E#pds_v6", "2 4 8 16 32 48 64 96"),
    ("E#ps_v5", "2 4 8 16 20 32"),
    ("E#ps_v6", "2 4 8 16 32 48 64 96"),
    ("E#s_v3", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64"),
    ("E#s_v4", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64"),
    ("E#s_v5", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96"),
    ("E#s_v6", "2 4-2 4 8-2 8-4 8 16-4 16-8 16 20 32-8 32-16 32 48 64-16 64-32 64 96-24 96-48 96 128-32 128-64 128"),
    ("EC#ads_cc_v5", "4 8 16 20 32 48 64 96"),
    ("EC#ads_v5", "2 4 8 16 20 32 48 64 96"),
    ("EC#ads_v6", "2 4 8 16 32 48 64 96"),
    ("EC#as_cc_v5", "4 8 16 20 32 48 64 96"),
    ("EC#as_v5", "2 4 8 16 20 32 48 64 96"),
    ("EC#as_v6", "2 4 8 16 32 48 64 96"),
    ("EC#eds_v5", "2 4 8 16 32 48 64 128"),
    ("EC#eds_v6", "2 4 8 16 32 48 64"),
    ("EC#es_v5", "2 4 8 16 32 48 64 128"),
    ("EC#es_v6", "2 4 8 16 32 48 64"),
    ("EC#iads_v5", "96"),
    ("EC#ias_v5", "96"),
    ("EC#ieds_v5", "128"),
    ("EC#ies_v5", "128"),
    ("F#", "1 2 4 8 16"),
    ("F#ads_v7", "1 2 4 8 16 32 48 64 80"),
    ("F#alds_v7", "1 2 4 8 16 32 48 64 80"),
    ("F#als_v6", "2 4 8 16 32 48 64"),
    ("F#als_v7", "1 2 4 8 16 32 48 64 80"),
    ("F#amds_v7", "1 2-1 2 4-1 4-2 4 8-2 8-4 8 16-4 16-8 16 32-8 32-16 32 48 64-16 64-32 64 80"),
    ("F#ams_v6", "2 4 8 16 32 48 64"),
    ("F#ams_v7", "1 2-1 2 4-1 4-2 4 8-2 8-4 8 16-4 16-8 16 32-8 32-16 32 48 64-16 64-32 64 80"),
    ("F#as_v6", "2 4 8 16 32 48 64"),
    ("F#as_v7", "1 2 4 8 16 32 48 64 80"),
    ("F#s", "1 2 4 8 16"),
    ("F#s_v2", "2 4 8 16 32 48 64 72"),
    ("FX#mds", "4 12 24 36 48"),
    ("FX#mds_v2", "2 4-2 4 8-2 8-4 8 12-6 12 16-4 16-8 16 24-6 24-12 24 32-8 32-16 32 48-12 48-24 48 64-16 64-32 64 96-24 96-48 96"),
    ("FX#ms_v2", "2 4-2 4 8-2 8-4 8 12-6 12 16-4 16-8 16 24-6 24-12 24 32-8 32-16 32 48-12 48-24 48 64-16 64-32 64 96-24 96-48 96"),
    ("G#", "1 2 3 4 5"),
    ("GS#", "1 2 3 4-4 4-8 4 5-8 5-16 5"),
    ("HB#rs_v2", "120-16 120-32 120-64 120-96 120"),
    ("HB#rs_v3", "120-16 120-32 120-64 120-96 120"),
    ("HB#rs_v4", "176-24 176-48 176-96 176-144 176"),
    ("HB#rs_v5", "368-48 368-96 368-144 368-192 368-240 368-288 368-336 368"),
    ("HC#rs", "44-16 44-32 44"),
    ("HX#rs", "176-24 176-48 176-96 176-144 176"),
    ("L#aos_v4", "2 4 8 12 16 24 32"),
    ("L#as_v3", "8 16 32 48 64 80"),
    ("L#as_v4", "2 4 8 16 32 48 64 80 96"),
    ("L#s", "4 8 16 32"),
    ("L#s_v2", "8 16 32 48 64 80"),
    ("L#s_v3", "8 16 32 48 64 80"),
    ("L#s_v4", "2 4 8 16 32 48 64 80 96"),
    ("M#", "64 128"),
    ("M#bds_1_v3", "64-32 64"),
    ("M#bds_2_v3", "96-48 96"),
    ("M#bds_3_v3", "128-64 128"),
    ("M#bds_4_v3", "176-88 176"),
    ("M#bds_v3", "16 32 48 64 96 128-64 128 176-88 176"),
    ("M#bs_v3", "16 32 48 64 96 128-64 128 176-88 176 416"),
    ("M#dms_v2", "32 64 128"),
    ("M#ds_12_v3", "624 832"),
    ("M#ds_1_v3", "48 96"),
    ("M#ds_2_v3", "96"),
    ("M#ds_3_v3", "176"),
    ("M#ds_4_v3", "176"),
    ("M#ds_6_v3", "416"),
    ("M#ds_8_v3", "416"),
    ("M#ds_v2", "64 128"),
    ("M#ds_v3", "12 24"),
    ("M#idms_v2", "192"),
    ("M#ids_16_v3", "832"),
    ("M#ids_v2", "192"),
    ("M#ims_v2", "192"),
    ("M#is_16_v3", "832"),
    ("M#is_v2", "192"),
    ("M#ls", "32 64"),
    ("M#m", "64 128"),
    ("M#ms", "8-2 8-4 8 16-4 16-8 16 32-8 32-16 32 64-16 64-32 64 128-32 128-64 128"),
    ("M#ms_v2", "32 64 128 208 416-208 416"),
    ("M#s", "64 128"),
    ("M#s_10_v2", "416"),
    ("M#s_12_v3", "624 832"),
    ("M#s_1_v3", "48 96"),
    ("M#s_2_v3", "96"),
    ("M#s_3_v3", "176"),
    ("M#s_4_v3", "176"),
    ("M#s_6_v3", "416"),
    ("M#s_8_v2", "416"),
    ("M#s_8_v3", "416"),
    ("M#s_9_v2", "416"),
    ("M#s_v2", "64 128 208 416-208 416"),
    ("M#s_v3", "12 24"),
    ("M#ts", "32"),
    ("NC#adis_H100_v5", "80"),
    ("NC#ads_A100_v4", "24 48 96"),
    ("NC#ads_A10_v4", "8 16 32"),
    ("NC#ads_H100_v5", "40"),
    ("NC#as_T4_v3", "4 8 16 64"),
    ("NC#rs_v3", "24"),
    ("NC#s_v3", "6 12 24"),
    ("NCC#ads_H100_v5", "40"),
    ("ND#amsr_A100_v4", "96"),
    ("ND#asr_v4", "96"),
    ("ND#is_MI300X_v5", "96"),
    ("ND#isr_GB300_v6", "128"),
    ("ND#isr_H100_v5", "96"),
    ("ND#isr_H200_v5", "96"),
    ("ND#isr_MI300X_v5", "96"),
    ("ND#isr_NDR_GB200_v6", "128"),
    ("ND#rs_v2", "40"),
    ("NG#adms_V620_v1", "32"),
    ("NG#ads_V620_v1", "8 16 32"),
    ("NP#s", "10 20 40"),
    ("NV#adms_A10_v5", "36"),
    ("NV#adms_V710_v5", "28"),
    ("NV#ads_A10_v5", "6 12 18 36 72"),
    ("NV#ads_V710_v5", "4 8 12 24"),
    ("NV#as_v4", "4 8 16 32"),
    ("NV#s_v2", "6 12 24"),
    ("NV#s_v3", "12 24 48"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceTypeCheck::{Known, Typo, Unknown};

    fn typo(s: &str) -> InstanceTypeCheck {
        Typo(s.to_string())
    }

    #[test]
    fn one_edit_from_a_known_type_is_a_typo() {
        use Provider::{Aws, Azure, Gcp};
        let cases = [
            (Aws, "m6i.xlargee", typo("m6i.xlarge")),
            (Gcp, "n2-standrd-8", typo("n2-standard-8")),
            (Azure, "Standard_D4s_v55", typo("Standard_D4s_v5")),
            // Two letters swapped count as one edit.
            (Aws, "m6i.xlagre", typo("m6i.xlarge")),
            (Gcp, "n2-stnadard-4", typo("n2-standard-4")),
            // AWS, known family: the nearest size it offers (g5 starts at xlarge).
            (Aws, "g5.large", typo("g5.xlarge")),
            (Aws, "m6i.3xlarge", typo("m6i.2xlarge")),
            (Aws, "c5.8xlarge", typo("c5.9xlarge")),
            // AWS, unknown family: the nearest family with that size.
            (Aws, "m6ii.xlarge", typo("m6i.xlarge")),
            (Aws, "g5x.12xlarge", typo("g5.12xlarge")),
            (Gcp, "n2-standard-6", typo("n2-standard-4")),
            (Gcp, "c3-standard-4-lsd", typo("c3-standard-4-lssd")),
            (Azure, "Standard_D6s_v5", typo("Standard_D4s_v5")),
            (Azure, "Standard_NC8as_T4v3", typo("Standard_NC8as_T4_v3")),
        ];
        for (provider, typed, expected) in cases {
            assert_eq!(
                check_instance_type(provider, typed),
                expected,
                "{provider} {typed}"
            );
            assert!(!known_instance_type(provider, typed), "{typed}");
        }
    }

    #[test]
    fn far_from_every_known_type_or_a_newer_generation_is_unknown() {
        use Provider::{Aws, Azure, Gcp};
        let cases = [
            (Aws, "x9z.large"),
            (Aws, "zz.large"),
            (Gcp, "x9-standard-8"),
            (Azure, "Standard_Q8zz_v1"),
            // A newer generation of a known family is new, not a typo.
            (Aws, "m9i.xlarge"),
            (Aws, "r9a.2xlarge"),
            (Gcp, "n5-standard-8"),
            (Gcp, "c5-highmem-16"),
            (Azure, "Standard_D4s_v9"),
            (Azure, "Standard_E8as_v8"),
            // Left out of the catalog on purpose (never Kubernetes nodes): not typos either.
            (Aws, "mac2.metal"),
            (Aws, "u-6tb1.metal"),
            (Aws, "u7i-12tb.224xlarge"),
        ];
        for (provider, typed) in cases {
            assert_eq!(
                check_instance_type(provider, typed),
                Unknown,
                "{provider} {typed}"
            );
            assert_eq!(instance_type_suggestion(provider, typed), None, "{typed}");
        }
    }

    #[test]
    fn known_types() {
        use Provider::{Aws, Azure, Gcp};
        let known = [
            (Aws, "m6i.xlarge"),
            (Aws, "m6i.metal"),
            (Aws, "m7i.metal-48xl"),
            (Aws, "c7i-flex.large"),
            (Aws, "p6-b200.48xlarge"),
            (Aws, "t3.micro"),
            (Gcp, "n2-standard-4"),
            (Gcp, "e2-medium"),
            (Gcp, "a3-ultragpu-8g"),
            (Gcp, "c3-standard-8-lssd"),
            (Gcp, "n2-custom-4-16384"),
            (Gcp, "n2d-custom-8-65536-ext"),
            (Gcp, "custom-4-15360"),
            (Gcp, "e2-custom-medium-4096"),
            (Azure, "Standard_D4s_v5"),
            (Azure, "Standard_E16-4s_v5"),
            (Azure, "Standard_NC24ads_A100_v4"),
            (Azure, "Standard_d4s_v5"),
        ];
        for (provider, name) in known {
            assert_eq!(
                check_instance_type(provider, name),
                Known,
                "{provider} {name}"
            );
            assert!(instance_type_shape_ok(provider, name), "{name}");
        }
        // Custom machine types only where the series has them.
        assert!(!known_instance_type(Gcp, "c3-custom-4-8192"));
        assert!(!known_instance_type(Gcp, "n2-custom-4"));
    }

    /// `(cloud, instance type, gpu)` of every node pool `templates/profile.yaml` writes.
    fn template_pools() -> Vec<(Provider, String, bool)> {
        let mut cloud = None;
        let mut pools = Vec::new();
        for line in include_str!("../../templates/profile.yaml")
            .lines()
            .map(str::trim)
        {
            if let Some(key) = line.strip_prefix("{{#").and_then(|l| l.strip_suffix("}}")) {
                cloud = Provider::ALL
                    .into_iter()
                    .find(|p| p.as_str() == key)
                    .or(cloud);
            } else if line.starts_with("{{/") {
                cloud = cloud.filter(|p| line != format!("{{{{/{p}}}}}"));
            } else if let Some((_, rest)) = line.split_once("instanceType: ") {
                let name = rest.split([',', ' ', '}']).next().unwrap().to_string();
                pools.push((
                    cloud.expect("pools are per cloud"),
                    name,
                    line.contains("gpu: true"),
                ));
            }
        }
        pools
    }

    #[test]
    fn every_instance_type_of_the_template_is_known() {
        let pools = template_pools();
        for cloud in Provider::ALL {
            assert!(
                pools.iter().any(|(c, _, gpu)| *c == cloud && *gpu),
                "{cloud}: the template has a GPU pool"
            );
            assert!(
                known_instance_type(cloud, example_instance_type(cloud)),
                "{cloud}"
            );
        }
        for (cloud, name, gpu_pool) in pools {
            assert_eq!(check_instance_type(cloud, &name), Known, "{cloud}: {name}");
            assert_eq!(is_gpu_instance(cloud, &name), gpu_pool, "{cloud}: {name}");
        }
    }

    #[test]
    fn tables_are_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for &(family, sizes) in AWS_FAMILIES {
            for size in sizes.split(' ') {
                let name = format!("{family}.{size}");
                assert!(instance_type_shape_ok(Provider::Aws, &name), "{name}");
                assert!(seen.insert(name.clone()), "{name} twice");
            }
        }
        for name in gcp_names() {
            assert!(instance_type_shape_ok(Provider::Gcp, &name), "{name}");
            assert!(seen.insert(name.clone()), "{name} twice");
        }
        for (size, series) in azure_sizes() {
            let name = format!("Standard_{size}");
            assert!(series.matches('#').count() == 1, "{series}");
            assert!(instance_type_shape_ok(Provider::Azure, &name), "{name}");
            assert!(seen.insert(name.clone()), "{name} twice");
        }
    }

    #[test]
    fn gpu_families_are_in_the_catalog() {
        for family in AWS_NVIDIA_FAMILIES.iter().chain(AWS_AMD_FAMILIES) {
            assert!(aws_sizes(family).is_some(), "{family}");
        }
        for series in GCP_GPU_SERIES {
            assert!(
                GCP_MACHINE_TYPES
                    .iter()
                    .any(|(class, _, _)| class.split('-').next() == Some(series)),
                "{series}"
            );
        }
        for series in AZURE_AMD_SERIES {
            assert!(AZURE_SIZES.iter().any(|(s, _)| s == series), "{series}");
        }
        // Every known type answers from its family's row, consistently.
        for &(family, sizes) in AWS_FAMILIES {
            let expected = if AWS_NVIDIA_FAMILIES.contains(&family) {
                Gpu::Nvidia
            } else if AWS_AMD_FAMILIES.contains(&family) {
                Gpu::Other
            } else {
                Gpu::None
            };
            for size in sizes.split(' ') {
                assert_eq!(
                    gpu(Provider::Aws, &format!("{family}.{size}")),
                    expected,
                    "{family}.{size}"
                );
            }
        }
        for name in gcp_names() {
            let series = name.split('-').next().unwrap();
            assert_eq!(
                is_gpu_instance(Provider::Gcp, &name),
                GCP_GPU_SERIES.contains(&series),
                "{name}"
            );
        }
        for (size, series) in azure_sizes() {
            let expected = if AZURE_AMD_SERIES.contains(&series) {
                Gpu::Other
            } else if ["NC", "ND", "NV"].iter().any(|p| series.starts_with(p)) {
                Gpu::Nvidia
            } else {
                Gpu::None
            };
            assert_eq!(
                gpu(Provider::Azure, &format!("Standard_{size}")),
                expected,
                "{size}"
            );
        }
    }

    #[test]
    fn gpu_answers_stay_what_they_were() {
        // The families the previous hand-written list named keep their answer.
        for family in [
            "g4dn", "g5", "g5g", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e",
            "p5en",
        ] {
            let (_, sizes) = AWS_FAMILIES.iter().find(|(f, _)| *f == family).unwrap();
            let size = sizes.split(' ').next().unwrap();
            assert!(
                is_gpu_instance(Provider::Aws, &format!("{family}.{size}")),
                "{family}"
            );
        }
        for (provider, name, expected) in [
            (Provider::Aws, "m6i.xlarge", Gpu::None),
            (Provider::Aws, "inf2.xlarge", Gpu::None),
            (Provider::Aws, "trn1.2xlarge", Gpu::None),
            (Provider::Aws, "g4ad.xlarge", Gpu::Other),
            // Unknown families are read by their name, as before.
            (Provider::Aws, "p6.48xlarge", Gpu::Nvidia),
            (Provider::Aws, "g9.xlarge", Gpu::Nvidia),
            (Provider::Gcp, "g2-standard-8", Gpu::Nvidia),
            (Provider::Gcp, "a2-highgpu-1g", Gpu::Nvidia),
            (Provider::Gcp, "a4x-highgpu-4g", Gpu::Nvidia),
            (Provider::Gcp, "g4-standard-48", Gpu::Nvidia),
            (Provider::Gcp, "g1-small", Gpu::None),
            (Provider::Gcp, "n1-standard-8", Gpu::None),
            (Provider::Gcp, "ct5lp-hightpu-4t", Gpu::None),
            (Provider::Gcp, "a5-highgpu-8g", Gpu::Nvidia),
            (Provider::Azure, "Standard_NC8as_T4_v3", Gpu::Nvidia),
            (Provider::Azure, "Standard_nc8as_t4_v3", Gpu::Nvidia),
            (Provider::Azure, "Standard_ND96isr_H100_v5", Gpu::Nvidia),
            (Provider::Azure, "Standard_ND96isr_MI300X_v5", Gpu::Other),
            (Provider::Azure, "Standard_NV4as_v4", Gpu::Other),
            (Provider::Azure, "Standard_NP10s", Gpu::None),
            (Provider::Azure, "Standard_D8s_v5", Gpu::None),
            (Provider::Azure, "Standard_ND96isr_MI400X_v7", Gpu::Other),
            (Provider::Azure, "Standard_NC96ads_B300_v7", Gpu::Nvidia),
        ] {
            assert_eq!(gpu(provider, name), expected, "{provider} {name}");
        }
    }
}
