#include "simulator/fault_injector.hpp"

// TODO(issue 13): being written.
