#include "xj/collector/cli.hpp"

int main(int argc, char** argv) { return xj::collector_main(argc, argv); }
