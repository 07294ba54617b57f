//! The patient record: an identified conversation's transcript as an HL7 FHIR R4
//! `Communication` bundle (`fhir`), with a structural check of what it builds, and its
//! delivery to the organisation's FHIR server when the conversation is closed (`delivery`).

pub mod delivery;
pub mod fhir;

pub use delivery::RecordConfig;
