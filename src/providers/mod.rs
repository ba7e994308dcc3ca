//! Cloud providers: one module per cloud, one file per service inside it. Only this tree
//! calls cloud SDKs.

pub mod aws;
