// xunjian-collector's command line: serve, validate, token, audit.
#pragma once

namespace xj {

int collector_main(int argc, char** argv);

}  // namespace xj
