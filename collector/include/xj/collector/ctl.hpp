// xunjianctl: the operator's command line over the collector's JSON API (hosts, one host,
// checks, metric series, the licence registry), printed as aligned tables or as the API's JSON. See
// docs/xunjianctl.md. Exit codes: 0 ok, 1 the API or the connection failed, 2 usage.
#pragma once

namespace xj {

int ctl_main(int argc, char** argv);

}  // namespace xj
