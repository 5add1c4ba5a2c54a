#include "xj/agent/cli.hpp"

int main(int argc, char** argv) { return xj::agent_main(argc, argv); }
