#pragma once
/// Pipelines as data: every op is a list of steps (config `pipelines:`, defaults below), and one router walks
/// any of them. Plain code, no actors: parsed, validated and unit-tested on its own.
///
///   classify: [orient, classify]        ocr:     [orient, ocr]
///   extract:  [orient, ocr, extract]    process: [orient, classify, ocr, extract]
///
/// `orient`, `classify` and `ocr` are served by models (local, or over NATS by the node that hosts them);
/// `extract` is plain code every node runs on the text it has.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infermesh {

enum class step_kind { orient, classify, ocr, extract };

std::string_view step_name(step_kind s);
std::optional<step_kind> parse_step(std::string_view name);

using pipeline = std::vector<step_kind>;

/// The ops of the wire contract (protocol.md), each with its default pipeline.
const std::map<std::string, pipeline>& default_pipelines();

/// Why `steps` cannot serve `op` (empty when it can): unknown op, empty list, a repeated step, `extract`
/// without an earlier `ocr`, `orient` anywhere but first, or an op whose result needs a step the list lacks.
std::string pipeline_problem(const std::string& op, const pipeline& steps);

/// Whether a step looks at page images (every step but `extract`, which reads the text found).
bool needs_pages(step_kind s);

/// Whether a pipeline reads every page (it has an `ocr` step); if not, it looks only at page 1 (`classify`),
/// so only page 1 of a document is split, oriented and classified.
bool reads_every_page(const pipeline& steps);

/// The op a node asks over NATS when it cannot run `step` itself: orientation comes back with `classify`'s
/// answer (its `rotation`), so a node without an orientation model asks a classifier node.
std::string remote_op_of(step_kind step);

}  // namespace infermesh
