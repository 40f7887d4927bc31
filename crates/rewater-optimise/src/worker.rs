//! NATS worker (placeholder)
