#include "simulator/link_proxy.hpp"

// TODO(issue 13): being written.
