"""Policy as data: versioned, dated packs of criteria, each with the clause it comes from."""
