// The Boost.Test entry point shared by the test binaries; suites live in files that mirror the source tree.
#define BOOST_TEST_MODULE infermesh
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>
