#pragma once
// TODO(issue 13): being written.
