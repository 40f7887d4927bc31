//! Saving and loading the ledger through the store (see `rewater_store::OutfallStore`).
