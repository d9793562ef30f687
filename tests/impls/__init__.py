"""The backends and their contract (impls/)."""
