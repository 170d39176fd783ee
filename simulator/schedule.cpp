#include "simulator/schedule.hpp"

// TODO(issue 13): being written.
