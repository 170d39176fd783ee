#include "simulator/report.hpp"

// TODO(issue 13): being written.
