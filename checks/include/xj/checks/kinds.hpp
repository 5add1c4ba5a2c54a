// Spec functions of every check kind; the registry lists them in one table.
#pragma once

#include "xj/checks/spec.hpp"

namespace xj {

CheckSpec load_check_spec();

}  // namespace xj
