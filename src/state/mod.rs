//! State: what unionctl created, recorded after every resource.

pub mod file;

pub use file::write_atomically;
