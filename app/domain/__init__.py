"""Pure logic: plain values in, plain values out; no Flask, no database session."""
