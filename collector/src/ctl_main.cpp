#include "xj/collector/ctl.hpp"

int main(int argc, char** argv) { return xj::ctl_main(argc, argv); }
