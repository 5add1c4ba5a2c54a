// The channels outside robot_channels.cpp, made by make_channel().
#pragma once

#include <memory>

#include "xj/alerts/channel.hpp"

namespace xj::alerts::detail {

std::unique_ptr<Channel> make_sms_http_channel(const ChannelConfig& c);
std::unique_ptr<Channel> make_aliyun_sms_channel(const ChannelConfig& c, WallClock clock);
std::unique_ptr<Channel> make_email_channel(const ChannelConfig& c, WallClock clock);

}  // namespace xj::alerts::detail
