//! Patients' strong identification: the personal identity code (`hetu`) checked to its check
//! character before a conversation takes it.

pub mod hetu;
