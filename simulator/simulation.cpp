#include "simulator/simulation.hpp"

// TODO(issue 13): being written.
