//! Facts about each cloud that validation checks against: regions, the supported
//! Kubernetes window, instance families with GPUs. Kept in one table per cloud so that a
//! new region or version is a one-line change.

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

/// Whether an instance type carries NVIDIA GPUs.
pub fn is_gpu_instance(provider: Provider, instance_type: &str) -> bool {
    match provider {
        Provider::Aws => {
            let family = instance_type.split('.').next().unwrap_or("");
            [
                "g4dn", "g5", "g5g", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e",
                "p5en", "p6",
            ]
            .contains(&family)
        }
        Provider::Gcp => ["a2-", "a3-", "a4-", "g2-"]
            .iter()
            .any(|p| instance_type.starts_with(p)),
        Provider::Azure => {
            let size = instance_type.strip_prefix("Standard_").unwrap_or("");
            size.starts_with("NC") || size.starts_with("ND") || size.starts_with("NV")
        }
    }
}

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
        Provider::Azure => instance_type.strip_prefix("Standard_").is_some_and(|s| {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
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
