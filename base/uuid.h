#pragma once

#include <string>

namespace tally {

// A random (version 4) UUID in its canonical text form. Thread-safe.
std::string new_uuid();

}  // namespace tally
