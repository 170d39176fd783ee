#include "simulator/scenario.hpp"

// TODO(issue 13): being written.
