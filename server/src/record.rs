//! The patient record: an identified conversation's transcript as an HL7 FHIR R4
//! `Communication` bundle (`fhir`), with a structural check of what it builds.

pub mod fhir;
