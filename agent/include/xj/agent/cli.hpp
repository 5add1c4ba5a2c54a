// xunjian-agent's command line: run, check, validate, kinds.
#pragma once

namespace xj {

int agent_main(int argc, char** argv);

}  // namespace xj
