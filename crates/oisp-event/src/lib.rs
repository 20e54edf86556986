//! OISP v0.1 event model.
