// Package model says what two Oneserve systems linked by O2O must hold after a life
// of user and operator actions: for each action in either system, which writes the
// other system must receive (once, in source order per side), which links exist and
// in which state each ends (issue 18, item 1).
//
// It is written from the documented behaviour only — README.md ("What syncs",
// "Nothing missed"), docs/events.md, docs/configuration.md, docs/lifecycle.md,
// docs/reconciliation.md and docs/operations.md — and imports nothing of O2O's, so
// that it cannot share the mistakes of package rules or lifecycle. Each rule cites
// its section; where the docs are silent or ambiguous the reading chosen is in
// QUESTIONS.md. Its link configuration ([Link]) is its own small struct, field by
// field the keys of configuration.md's "links" table.
//
// # How a generator and a checker use it
//
//	m := model.New(links, systems)  // the links' configuration, the systems' reference data
//	for each action of the life:     // once the simulated system has done it
//	    err := m.Apply(action)      // non-nil: O2O must refuse it too (operator actions)
//	exp := m.Expect()
//	divergences := model.Compare(exp.Writes, observed)
//	// and each exp.Links entry against the link's linkState
//
// observed holds, per [Target] (a link's primary job, or its linked job), O2O's
// writes as the simulated system recorded them, in the order it received them: the
// linked job's creation and lines, job events ([Link.JobEvent] reads what one stands
// for from its code; the checker adds the appointment and its start, the document or
// the version from its note), document copies, versions raised and decided. Compare matches them by identity ([Write.Key], reconciliation.md's fact
// identities) and reports what is missing, duplicated, unexpected, out of order or
// different in content. A primary job linked to two subcontractors (two teams) has a
// Target per link: the checker splits that job's writes by the link that made them.
//
// # What the model assumes
//
// It applies each action completely before the next, as if every delivery arrived
// at once and every system answered. Faults do not change what must be written —
// that is O2O's promise — with two documented exceptions the generator states per
// action ([Delivery]): a status (or an appointment's move) whose webhook was lost or
// overtaken may be superseded before a read finds it (reconciliation.md, "What a
// read cannot know"), so that write becomes optional; and a fact learned late or by
// reading has no promised place among its side's writes. Time passes only through
// [Elapse] (closeAfter): a generator with a short closeAfter emits it when it waits
// that long. The generator also waits for what the model takes as done before acting
// on it: a link to reach NeedsAttention before its gap is fixed or an operator
// retries or skips, and every delivery of the actions before one that blocks,
// pauses or unlinks a link (a late one would queue behind it).
//
// # What it does not cover
//
//   - The content of writes beyond their identity, codes, categories, SOR codes,
//     appointment starts and version changes: note texts and reasons, the linked
//     job's fields (work type, mapped priority, ...), document bytes.
//   - The link's own records (applied / skipped / duplicate events, the operator
//     log), search attributes, reconciliation and poll results.
//   - Webhook routing and authentication, nudges and polling as such (only their
//     effect through [Delivery]); discovery: every assignment is taken to reach O2O.
//   - A primary job linked to two subcontractors that raises versions (versions are
//     kept per link), versions raised before the link starts, version lines
//     addressed by id or client ref, versions saved as New.
//   - Echoes as actions: O2O's own writes coming back are never the model's actions,
//     so anything they made O2O write again shows as unexpected or duplicated.
package model
